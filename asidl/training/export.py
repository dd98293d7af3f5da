# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Turning a training checkpoint into a model file for the finder.

Checkpoints carry the optimizer state and the training loss; the exported
file holds only the network (uncompiled), so it loads with plain
`keras.models.load_model` and is about a third of the size.
"""

from pathlib import Path

__all__ = ['export_model']


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
    trained = keras.models.load_model(checkpoint, compile=False)
    clean = keras.models.clone_model(trained)
    clean.set_weights(trained.get_weights())
    output.parent.mkdir(parents=True, exist_ok=True)
    clean.save(output)
    return output
