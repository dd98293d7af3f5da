# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
``asidl train CHECKPOINT_DIR``: train a model on simulated frames, with
checkpoints and resume (`asidl.training.train.train`, whose defaults,
`asidl.training.defaults`, the options share).
"""

import os
import sys

from ..training import defaults

__all__ = ['add_parser', 'run']


#: The numeric options: flag, type, default (`asidl.training.defaults`), help.
_NUMBERS = (
    ('--epochs', int, defaults.EPOCHS, 'total epochs'),
    ('--steps-per-epoch', int, defaults.STEPS_PER_EPOCH, 'batches per epoch'),
    ('--batch-size', int, defaults.BATCH_SIZE, 'frames per batch'),
    ('--frame-size', int, defaults.FRAME_SIZE, 'side of the simulated frames, a multiple of 32'),
    ('--base-filters', int, defaults.BASE_FILTERS, 'channels of the first U-Net level'),
    ('--depth', int, defaults.DEPTH, 'U-Net poolings'),
    (
        '--input-stride',
        int,
        defaults.INPUT_STRIDE,
        'pixels per side folded into channels '
        'before the U-Net; 4 is about 3x faster than 1 on a CPU',
    ),
    ('--learning-rate', float, defaults.LEARNING_RATE, 'initial Adam learning rate'),
    ('--seed', int, defaults.SEED, 'random seed'),
    ('--n-validation', int, defaults.N_VALIDATION, 'validation frames scored each epoch'),
)


def add_parser(sub):
    """Add the ``train`` command to the subparsers ``sub``."""
    tr = sub.add_parser(
        'train',
        help='train a model on simulated frames',
        description='Train a U-Net on streamed simulated frames. Training '
        'resumes from CHECKPOINT_DIR if it holds a checkpoint.',
    )
    tr.add_argument('checkpoint_dir', help='directory for checkpoints and state.json')
    for flag, kind, default, text in _NUMBERS:
        tr.add_argument(
            flag,
            type=kind,
            default=default,
            help=f'{text} (default: %(default)s)',
            **({'choices': defaults.INPUT_STRIDES} if flag == '--input-stride' else {}),
        )
    tr.add_argument(
        '--initial-model',
        metavar='MODEL',
        help='start from the weights of this registered model or model file '
        '(fine-tuning) instead of a random initialization; its architecture '
        'overrides --base-filters, --depth and --input-stride',
    )
    tr.add_argument(
        '--export',
        metavar='MODEL.keras',
        help='after training, write the best checkpoint as a model file for '
        'UNetLoGFinder(model=...)',
    )
    tr.set_defaults(func=run)


def run(args):
    """Run ``asidl train``; returns the exit status."""
    from ..training.export import export_model
    from ..training.train import train

    history = train(
        args.checkpoint_dir,
        epochs=args.epochs,
        steps_per_epoch=args.steps_per_epoch,
        batch_size=args.batch_size,
        frame_shape=(args.frame_size, args.frame_size),
        base_filters=args.base_filters,
        depth=args.depth,
        input_stride=args.input_stride,
        learning_rate=args.learning_rate,
        seed=args.seed,
        n_validation=args.n_validation,
        initial_model=args.initial_model,
        verbose=1 if sys.stdout.isatty() else 2,
    )
    if args.export:
        path = export_model(os.path.join(args.checkpoint_dir, 'best.keras'), args.export)
        print(f'exported the best checkpoint to {path}')
    return 0 if history else 1
