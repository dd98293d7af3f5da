# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Turning a training checkpoint into model files for the finder.

Checkpoints carry the optimizer state and the training loss; the exported
file holds only the network (uncompiled), so it loads with plain
`keras.models.load_model` and is about a third of the size.

The finder runs bundled models with OpenVINO from an IR (``.xml`` +
``.bin``) shipped beside each ``.keras`` file and hashed in the registry.
In the IR of a network with a space-to-depth stem, the heads run before
the unfolding to full resolution (`fold_heads`): the same outputs, for
less work.
Whenever a bundled model's ``.keras`` file changes (and its ``sha256`` in
``asidl/data/models/registry.json`` with it), regenerate the IR and its
hashes for every bundled model with::

    python -m asidl.training.export --openvino
"""

import argparse
import json
import os
import warnings
from pathlib import Path

__all__ = ['export_model', 'export_openvino', 'fold_heads', 'update_bundled_openvino']


def export_model(checkpoint, output):
    """
    Write the network of a checkpoint, without optimizer state, to ``output``.

    Parameters
    ----------
    checkpoint : str or path-like
        A ``.keras`` checkpoint written by `asidl.training.train.train`.
    output : str or path-like
        Destination ``.keras`` file.

    Returns
    -------
    path : `~pathlib.Path`
        The written file.
    """
    import keras

    output = Path(output)
    if output.suffix != '.keras':
        raise ValueError(f'the exported model file must end in .keras, got {output.name}')
    from . import layers  # noqa: F401  (registers asidl's own Keras layers)

    trained = keras.models.load_model(checkpoint, compile=False)
    clean = keras.models.clone_model(trained)
    clean.set_weights(trained.get_weights())
    output.parent.mkdir(parents=True, exist_ok=True)
    clean.save(output)
    return output


def fold_heads(model):
    """
    The same network with its heads moved before the unfolding to full
    resolution, where they cost less.

    In a network built by `~asidl.training.unet.build_unet` with
    ``input_stride`` s = 2, a transposed convolution of kernel and stride
    s (``depth_to_space``) unfolds each position into s x s pixels, and
    1x1 convolutions (the ``probability`` and ``offset`` heads) then work
    on every pixel.  Both are linear per block of pixels, so they are
    equivalent to a 1x1 convolution with ``s**2`` times the channels, the
    same activation, and heads applied to each of the ``s**2`` groups of
    channels, all at the low resolution, followed by a
    `~asidl.training.layers.DepthToSpace` that unfolds only the three
    output maps.  A network whose ``depth_to_space`` layer is itself a
    `~asidl.training.layers.DepthToSpace` has its heads moved before it
    in the same way.  The two networks give the same outputs to float
    rounding.

    Parameters
    ----------
    model : `keras.Model`

    Returns
    -------
    folded : `keras.Model`
        The folded network (sharing the layers before ``depth_to_space``
        with ``model``), or ``model`` itself if it does not end in that
        pattern.
    """
    import keras
    import numpy as np

    from .layers import DepthToSpace

    names = {layer.name for layer in model.layers}
    if not {'depth_to_space', 'probability', 'offset', 'outputs'} <= names:
        return model
    unfold = model.get_layer('depth_to_space')
    heads = [model.get_layer('probability'), model.get_layer('offset')]
    if isinstance(unfold, DepthToSpace):
        s = unfold.block_size
    elif isinstance(unfold, keras.layers.Conv2DTranspose) and unfold.data_format == 'channels_last':
        s = unfold.strides[0]
        # With s = 4 the folded convolution has 16 times the channels and
        # the IR is no faster (asidl-fast, measured): only s = 2 is folded.
        if (
            s != 2
            or tuple(unfold.kernel_size) != (s, s)
            or tuple(unfold.strides) != (s, s)
            or tuple(unfold.dilation_rate) != (1, 1)
        ):
            return model
    else:
        return model
    if (
        any(
            not isinstance(h, keras.layers.Conv2D)
            or tuple(h.kernel_size) != (1, 1)
            or h.input is not unfold.output
            for h in heads
        )
        or [t is h.output for t, h in zip(model.get_layer('outputs').input, heads)] != [True, True]
        or model.outputs[0] is not model.get_layer('outputs').output
    ):
        return model
    phases = s * s
    weights = {}
    if isinstance(unfold, DepthToSpace):
        # Its input already holds channel k of pixel (a, b) of a block in
        # channel (a * s + b) * filters + k.
        x = unfold.input
        filters = x.shape[-1] // phases
    else:
        kernel = unfold.get_weights()[0]  # (s, s, filters, input channels)
        filters = kernel.shape[2]
        bias = unfold.get_weights()[1] if unfold.use_bias else np.zeros(filters, np.float32)
        # Channel (a * s + b) * filters + k is channel k of pixel (a, b) of a block.
        folded = np.concatenate([kernel[a, b].T for a in range(s) for b in range(s)], axis=1)
        x = keras.layers.Conv2D(
            phases * filters, 1, activation=unfold.activation, name='depth_to_space_folded'
        )(unfold.input)
        weights['depth_to_space_folded'] = [folded[None, None], np.tile(bias, phases)]
    maps = []
    for head in heads:
        w = head.get_weights()
        k = w[0].shape[-1]
        block = np.zeros((phases * filters, phases * k), np.float32)
        for p in range(phases):
            block[p * filters : (p + 1) * filters, p * k : (p + 1) * k] = w[0][0, 0]
        head_bias = np.tile(w[1], phases) if head.use_bias else np.zeros(phases * k, np.float32)
        name = f'{head.name}_folded'
        weights[name] = [block[None, None], head_bias]
        y = keras.layers.Conv2D(phases * k, 1, activation=head.activation, name=name)(x)
        maps.append(DepthToSpace(s, name=f'{head.name}_unfold')(y))
    outputs = keras.layers.Concatenate(name='outputs')(maps)
    result = keras.Model(model.inputs, outputs, name=model.name)
    for name, w in weights.items():
        result.get_layer(name).set_weights(w)
    return result


def export_openvino(model, xml):
    """
    Convert a Keras model to an OpenVINO IR with dynamic batch and tile size.

    Parameters
    ----------
    model : `keras.Model`, str or path-like
        The model, or its ``.keras`` / ``.h5`` file.
    xml : str or path-like
        Destination ``.xml`` file; the weights go to the ``.bin`` file
        beside it.  The weights are kept in float32, so that the IR run in
        float32 gives TensorFlow's outputs.

    Returns
    -------
    xml, bin : `~pathlib.Path`
        The two written files.
    """
    import keras
    import openvino

    xml = Path(xml)
    if xml.suffix != '.xml':
        raise ValueError(f'the OpenVINO model file must end in .xml, got {xml.name}')
    from . import layers  # noqa: F401  (registers asidl's own Keras layers)

    if not isinstance(model, keras.Model):
        model = keras.models.load_model(model, compile=False)
    model = fold_heads(model)
    with warnings.catch_warnings():
        # OpenVINO traces the model with a tuple of inputs where the Keras
        # functional model names its one input; Keras warns, and the trace is
        # right.
        warnings.filterwarnings('ignore', "The structure of `inputs` doesn't match", UserWarning)
        converted = openvino.convert_model(model)
    xml.parent.mkdir(parents=True, exist_ok=True)
    openvino.save_model(converted, xml, compress_to_fp16=False)
    return xml, xml.with_suffix('.bin')


def update_bundled_openvino(directory=None):
    """
    Regenerate the OpenVINO IR of every bundled model and record its hashes.

    For each bundled model in the package registry, the ``.keras`` file is
    checked against its registered sha256, converted with
    `export_openvino` to ``<file stem>.xml`` / ``.bin`` beside it, and the
    entry's ``"openvino"`` object (file names, their sha256s, and the sha256
    of the ``.keras`` file converted) is rewritten in ``registry.json``.
    IR files no model uses any more are deleted.

    Parameters
    ----------
    directory : path-like, optional
        The directory of ``registry.json`` and the model files; the
        package's ``asidl/data/models`` by default.

    Returns
    -------
    converted : dict
        Model name -> its new ``"openvino"`` entry.
    """
    from ..registry import PACKAGE_DIR, file_sha256

    directory = Path(directory or PACKAGE_DIR)
    registry_file = directory / 'registry.json'
    entries = json.loads(registry_file.read_text())
    converted, keep = {}, set()
    for name, entry in entries.items():
        if not entry.get('bundled'):
            continue
        source = directory / entry['file']
        if file_sha256(source) != entry['sha256']:
            raise ValueError(
                f'{source} does not match the sha256 registered for {name!r}; '
                'update "sha256" in registry.json to the new file first'
            )
        xml, bin_ = export_openvino(source, directory / f'{Path(entry["file"]).stem}.xml')
        entry['openvino'] = {
            'xml': xml.name,
            'xml_sha256': file_sha256(xml),
            'bin': bin_.name,
            'bin_sha256': file_sha256(bin_),
            'source_sha256': entry['sha256'],
        }
        converted[name] = entry['openvino']
        keep.update((xml.name, bin_.name))
        print(f'{name}: {source.name} -> {xml.name}, {bin_.name}', flush=True)
    for stale in [*directory.glob('*.xml'), *directory.glob('*.bin')]:
        if stale.name not in keep:
            stale.unlink()
    registry_file.write_text(json.dumps(entries, indent=2) + '\n')
    return converted


def main(argv=None):
    """``python -m asidl.training.export --openvino``: see the module docstring."""
    parser = argparse.ArgumentParser(
        prog='python -m asidl.training.export',
        description='Regenerate the OpenVINO IR and its hashes for every bundled model.',
    )
    parser.add_argument(
        '--openvino',
        action='store_true',
        required=True,
        help='convert every bundled .keras model to OpenVINO IR beside it',
    )
    parser.add_argument('--directory', help="registry directory (default: the package's)")
    args = parser.parse_args(argv)
    update_bundled_openvino(args.directory)


if __name__ == '__main__':  # pragma: no cover
    os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')
    main()
