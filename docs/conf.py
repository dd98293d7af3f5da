# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""Sphinx configuration of the asidl documentation (sphinx-astropy v2)."""

import datetime

from sphinx_astropy.conf.v2 import *  # noqa: F401, F403
from sphinx_astropy.conf.v2 import exclude_patterns, intersphinx_mapping  # noqa: F401

import asidl

project = 'asidl'
author = 'asidl developers'
copyright = f'{datetime.datetime.now().year}, {author}'
version = asidl.__version__.split('+')[0]
release = asidl.__version__

exclude_patterns += ['_build', '_templates']

intersphinx_mapping.update({
    'photutils': ('https://photutils.readthedocs.io/en/stable/', None),
    'keras': ('https://keras.io/api/', None),
})
# Documentation builds must not depend on the network: intersphinx
# inventories that cannot be fetched only produce unresolved links, which
# nitpicky mode does not turn into errors here.
nitpicky = False

html_theme_options = {
    'github_url': 'https://github.com/asidl/asidl',
}
html_title = f'asidl {release}'
plot_include_source = True
plot_html_show_source_link = False
plot_formats = [('png', 100)]
