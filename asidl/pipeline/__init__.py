# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
The pipeline from image files to catalogs: find stars in many images, in
this process or on a Dask cluster.

`find_stars_in_files` is what ``asidl batch`` and ``asidl find`` run.
Each image is read and searched where it is processed (on a Dask worker,
or here without a client); each worker builds its `~asidl.UNetLoGFinder`,
and so loads the model, once, and keeps it for every later image.  The
catalogs come back to the calling process, which writes them atomically
(temporary name, then rename) as they arrive, so that an
interrupted run leaves only whole catalogs and a re-run can skip the
images already done.  An image that cannot be processed is reported with
its reason and does not stop the others.

Outputs never replace a file that asidl did not write for the same input:
each catalog's meta records its input (path, size and modification time,
or a hash of data in memory) and a digest of the options, and a re-run
skips an image only when these match; an existing file that is not an
asidl catalog (a FITS image, say) or the catalog of another image is
replaced only with ``overwrite=True``.

The pipeline is split by where its steps run: the work for one image, on
a worker (``asidl.pipeline.worker``); planning the run and checking the
outputs that exist (``asidl.pipeline.tasks``); running the tasks and
writing their outputs (``asidl.pipeline.run``); and `find_stars_in_files`,
which puts them together (``asidl.pipeline.find``).  The command line uses
the same steps.
"""

from .find import find_stars_in_files
from .run import BatchResult, run_tasks
from .tasks import (
    Task,
    check_finder_options,
    check_outputs,
    existing_outputs,
    expand_paths,
    plan_tasks,
)

__all__ = [
    'BatchResult',
    'Task',
    'check_finder_options',
    'check_outputs',
    'existing_outputs',
    'expand_paths',
    'find_stars_in_files',
    'plan_tasks',
    'run_tasks',
]
