# Licensed under a 3-clause BSD style license - see LICENSE.rst
"""
Running the network on the CPU with OpenVINO.

Keras/TensorFlow stay the training framework and the model format of
record; each bundled model also ships as an OpenVINO IR (``.xml`` +
``.bin``) converted from its ``.keras`` file (see
`asidl.training.export.export_openvino`) and hashed in the registry like
it.  `load_network` runs a bundled model from its IR without importing
TensorFlow, and every other model (a Keras object, a file given by path,
a downloaded or user-registered model) with Keras.  A bundled model whose
IR is missing, corrupt (its sha256 does not match) or cannot be compiled
runs with Keras instead, with one warning.

`CompiledNetwork` has the part of the `keras.Model` interface that
`asidl.predict.predict_maps` and `asidl.registry.check_model` use
(``input_shape``, ``output_shape``, ``predict_on_batch``), so the rest of
the package does not care which engine runs the network.  It also gives
the output channel-first (`CompiledNetwork.predict_planes`): the network
is compiled without the Keras model's last concatenation and transpose to
channels-last, which cost 12 to 20 per cent of its time on these
few-channel maps, and each map's plane of a tile is then contiguous.
"""

import functools
import os
import queue
import threading
import warnings

import numpy as np
from astropy.utils.exceptions import AstropyUserWarning

from . import constants

__all__ = [
    'PRECISIONS',
    'CompiledNetwork',
    'EngineWarning',
    'check_precision',
    'compile_network',
    'load_network',
    'native_precision',
    'resolve_precision',
]

#: Precisions of the network's arithmetic: ``'f32'`` (float32, matches
#: TensorFlow to about 1e-5), ``'bf16'`` (bfloat16, faster on CPUs with
#: AVX-512 BF16 or AMX; on other CPUs OpenVINO runs float32) and
#: ``'auto'`` (`native_precision`: bfloat16 where the CPU has it, else
#: float32).
PRECISIONS = constants.PRECISIONS

# OpenVINO's names of the precisions a compiled model reports.
_OPENVINO_NAMES = {'bf16': 'bf16', 'bfloat16': 'bf16', 'f32': 'f32', 'float32': 'f32'}


class EngineWarning(AstropyUserWarning):
    """A bundled model runs with TensorFlow instead of OpenVINO."""


class CompiledNetwork:
    """
    A network compiled by OpenVINO for the CPU.

    A batch of tiles is split over OpenVINO's CPU streams (one per core
    by default, see ``PERFORMANCE_HINT: THROUGHPUT``), each running its
    share of the tiles on one core: for these small-channel networks that
    keeps the cores busier than all threads working on one tile at a
    time.  A batch with fewer tiles than streams runs on a second
    compilation that spreads each tile over all cores.

    Parameters
    ----------
    compiled : `openvino.CompiledModel`
        Compiled with the throughput hint.
    xml : str
        The IR it was compiled from (copies and pickles compile it again,
        once per process).
    name : str
        Name of the model (for messages).
    precision : {'f32', 'bf16'}
        The precision it runs in.
    """

    engine = 'openvino'

    def __init__(self, compiled, xml, name, precision):
        self._compiled = compiled
        self.xml = xml
        self.name = name
        self.precision = precision
        self.input_shape = _keras_shape(compiled.input(0).get_partial_shape())
        self.output_shape = _output_shape(compiled)
        #: Tiles run in parallel (one per stream); `asidl.predict.predict_maps`
        #: makes its batches a multiple of this.
        self.streams = max(1, int(compiled.get_property('OPTIMAL_NUMBER_OF_INFER_REQUESTS')))
        self._idle = {}  # id(compiled model) -> (it, its idle infer requests)
        self._lock = threading.Lock()

    def __reduce__(self):
        # An OpenVINO CompiledModel cannot be pickled or deep-copied (as
        # photutils' PSFPhotometry copies its finder): rebuild from the IR.
        return _restore, (self.xml, self.name, self.precision)

    def __repr__(self):
        return f'<CompiledNetwork {self.name!r} ({self.precision}, OpenVINO CPU)>'

    def predict_on_batch(self, batch):
        """
        The network's output for a batch of tiles, as Keras gives it.

        Parameters
        ----------
        batch : `~numpy.ndarray`
            ``(n, ny, nx, 1)`` float32 tiles.

        Returns
        -------
        output : `~numpy.ndarray`
            ``(n, ny, nx, c)`` float32 (a view of a channel-first array).
        """
        return np.moveaxis(np.concatenate(self.predict_planes(batch), axis=1), 1, -1)

    def predict_planes(self, batch, *, one_stream=False):
        """
        The network's output for a batch of tiles, channel first.

        Parameters
        ----------
        batch : `~numpy.ndarray`
            ``(n, ny, nx, 1)`` float32 tiles.
        one_stream : bool, optional
            Run the whole batch as one request on one of the streams, for
            callers that keep every stream busy themselves with a request
            per thread (`asidl.bands.detect_in_bands`): each stream then
            takes its next tiles as soon as it is done, instead of waiting
            for the other streams' share of the batch.

        Returns
        -------
        parts : list of `~numpy.ndarray`
            ``(n, c_i, ny, nx)`` float32 arrays whose channels, in order,
            are the ``c`` channels of `predict_on_batch`'s output.
        """
        import openvino

        batch = np.ascontiguousarray(batch, dtype=np.float32)
        if one_stream:
            compiled, parts = self._compiled, [batch]
        elif len(batch) < self.streams:
            compiled, parts = self._latency(), [batch]
        else:
            compiled, parts = self._compiled, np.array_split(batch, self.streams)
        n, ny, nx = batch.shape[:3]
        # The requests write straight into the returned arrays (one part of
        # the batch each), so their outputs are not copied again.
        outs = [
            np.empty((n, _keras_shape(o.get_partial_shape())[1], ny, nx), np.float32)
            for o in compiled.outputs
        ]
        # The compiled model is shared by the threads of a process (e.g. a
        # Dask worker); each call takes idle requests of its own.
        idle = self._idle_requests(compiled)
        requests = []
        start = 0
        for part in parts:
            try:
                request = idle.get_nowait()
            except queue.Empty:
                request = compiled.create_infer_request()
            request.set_input_tensor(0, openvino.Tensor(part, shared_memory=True))
            stop = start + len(part)
            for i, out in enumerate(outs):
                request.set_output_tensor(i, openvino.Tensor(out[start:stop], shared_memory=True))
            request.start_async()
            requests.append(request)
            start = stop
        for request in requests:
            request.wait()
            idle.put(request)
        return outs

    def _idle_requests(self, compiled):
        """
        The infer requests of ``compiled`` that earlier calls left idle (a
        `queue.SimpleQueue`).  Requests are reused because a new one
        allocates the network's intermediate maps again (tens of megabytes
        per 1024² tile, whose first use costs page faults); a call takes
        requests out while it runs them, so threads sharing the network
        never share one.
        """
        with self._lock:
            return self._idle.setdefault(id(compiled), (compiled, queue.SimpleQueue()))[1]

    def _latency(self):
        """The IR compiled to run one request on all cores."""
        return _compile(self.xml, os.stat(self.xml).st_mtime_ns, self.precision, 'LATENCY')


def _restore(xml, name, precision):
    return compile_network(xml, name=name, precision=precision)


def _keras_shape(partial_shape):
    """A Keras-style shape tuple (None for dynamic dimensions) of an OpenVINO partial shape."""
    return tuple(int(d.get_length()) if d.is_static else None for d in partial_shape)


def _output_shape(compiled):
    """The Keras-style ``(n, ny, nx, c)`` output shape of a channel-first compilation."""
    shapes = [_keras_shape(output.get_partial_shape()) for output in compiled.outputs]
    channels = [shape[1] for shape in shapes]
    channels = None if None in channels else sum(channels)
    n, _, ny, nx = shapes[0]
    return (n, ny, nx, channels)


def _channel_first(model):
    """
    The network ``model`` (an `openvino.Model` converted from Keras, whose
    single output is channels-last) with its output channel first: the
    final transpose to channels-last is dropped and, if it transposed a
    concatenation of channels, the concatenated maps become the outputs
    themselves (e.g. the probability and the offsets).  Any other model
    keeps its output, transposed to channel-first.
    """
    import openvino
    from openvino import opset13

    results = model.get_results()
    if len(results) != 1:
        raise ValueError(f'the network must have one output, it has {len(results)}')
    output = results[0].input_value(0)
    node = output.get_node()
    order = node.input_value(1).get_node() if node.get_type_name() == 'Transpose' else None
    if (
        order is not None
        and order.get_type_name() == 'Constant'
        and list(order.get_data()) == [0, 2, 3, 1]
    ):
        source = node.input_value(0)
        inner = source.get_node()
        if inner.get_type_name() == 'Concat' and inner.get_attributes()['axis'] in (1, -3):
            outputs = [inner.input_value(i) for i in range(inner.get_input_size())]
        else:
            outputs = [source]
    else:
        outputs = [opset13.transpose(output, opset13.constant(np.array([0, 3, 1, 2])))]
    return openvino.Model([opset13.result(o) for o in outputs], model.get_parameters())


def _split_concatenations(model):
    """
    ``model`` (an `openvino.Model`, changed in place and returned) with
    every convolution of a channel concatenation (a U-Net decoder's skip
    connection) computed as the sum of one convolution per concatenated
    input, with the matching slices of its weights: the same function
    (to float rounding), but OpenVINO's CPU plugin then adds the parts
    inside the second convolution instead of copying the channels with
    its reference Concat kernel (measured: asidl-default's network 7%
    faster in bfloat16).
    """
    from openvino import opset13

    for concat in model.get_ordered_ops():
        if concat.get_type_name() != 'Concat' or concat.get_attributes()['axis'] not in (1, -3):
            continue
        targets = list(concat.output(0).get_target_inputs())
        if len(targets) != 1 or targets[0].get_index() != 0:
            continue
        conv = targets[0].get_node()
        if conv.get_type_name() != 'Convolution':
            continue
        weights = conv.input_value(1).get_node()
        if weights.get_type_name() != 'Constant':
            continue
        sizes = [concat.get_input_partial_shape(i)[1] for i in range(concat.get_input_size())]
        if not all(size.is_static for size in sizes):
            continue
        w = weights.get_data()
        edges = np.cumsum([0] + [size.get_length() for size in sizes])
        attributes = conv.get_attributes()
        total = None
        for i in range(concat.get_input_size()):
            part = opset13.convolution(
                concat.input_value(i),
                opset13.constant(np.ascontiguousarray(w[:, edges[i] : edges[i + 1]])),
                attributes['strides'],
                attributes['pads_begin'],
                attributes['pads_end'],
                attributes['dilations'],
                attributes['auto_pad'],
            )
            total = part if total is None else opset13.add(total, part)
        conv.output(0).replace(total.output(0))
    return model


@functools.cache
def _core():
    import openvino

    return openvino.Core()


@functools.lru_cache(maxsize=16)
def _compile(xml, mtime, precision, hint='THROUGHPUT'):
    core = _core()
    return core.compile_model(
        _split_concatenations(_channel_first(core.read_model(xml))),
        'CPU',
        {'INFERENCE_PRECISION_HINT': precision, 'PERFORMANCE_HINT': hint},
    )


def check_precision(precision):
    """Check a ``precision`` argument; raises `ValueError` naming it."""
    if not isinstance(precision, str) or precision not in PRECISIONS:
        raise ValueError(f'precision must be one of {PRECISIONS}, got {precision!r}')
    return precision


@functools.cache
def native_precision():
    """
    ``'bf16'`` if OpenVINO's CPU plugin has bfloat16 arithmetic on this
    CPU (AVX-512 BF16 or AMX), else ``'f32'``: what ``precision='auto'``
    runs in.
    """
    try:
        capabilities = _core().get_property('CPU', 'OPTIMIZATION_CAPABILITIES')
    except Exception:  # no OpenVINO, or a plugin that cannot say
        return 'f32'
    return 'bf16' if 'BF16' in capabilities else 'f32'


def resolve_precision(precision):
    """
    The precision ``precision`` stands for on this CPU: ``'auto'`` is
    `native_precision`, any other value is itself (checked where it is
    used, by `check_precision`).
    """
    return native_precision() if precision == 'auto' else precision


def _used_precision(compiled, asked):
    """
    The precision a compiled model runs in: OpenVINO runs float32 where
    bfloat16 is asked for but the CPU does not have it.
    """
    try:
        used = str(compiled.get_property('INFERENCE_PRECISION_HINT'))
    except Exception:  # an OpenVINO that does not report it
        return asked
    return _OPENVINO_NAMES.get(used.lower(), asked)


def compile_network(xml, *, name=None, precision='f32'):
    """
    Compile an OpenVINO IR for the CPU, once per process.

    Parameters
    ----------
    xml : path-like
        The IR's ``.xml`` file; its ``.bin`` lies beside it.
    name : str, optional
        Name of the model (for messages); the file name by default.
    precision : {'f32', 'bf16', 'auto'}, optional
        Arithmetic precision of the network (`PRECISIONS`).

    Returns
    -------
    network : `CompiledNetwork`
        Its ``precision`` is the one it runs in: ``'f32'`` when
        ``'bf16'`` is asked for on a CPU without bfloat16 arithmetic.
    """
    precision = resolve_precision(check_precision(precision))
    xml = os.path.abspath(os.fspath(xml))
    compiled = _compile(xml, os.stat(xml).st_mtime_ns, precision)
    used = _used_precision(compiled, precision)
    return CompiledNetwork(compiled, xml, name or os.path.basename(xml), used)


def load_network(model, *, precision=constants.DEFAULT_PRECISION, registry=None):
    """
    Resolve a model given by name, path or object into a network to run.

    A bundled model runs from its OpenVINO IR, without importing
    TensorFlow; anything else is loaded with `asidl.registry.load_model`
    and runs with Keras.  A bundled model whose IR is missing, corrupt or
    cannot be compiled falls back to Keras with an `EngineWarning`.

    Parameters
    ----------
    model : str, path-like or `keras.Model`
        As for `asidl.registry.load_model`.
    precision : {'auto', 'f32', 'bf16'}, optional
        Arithmetic precision for OpenVINO (`PRECISIONS`); Keras always
        runs float32.
    registry : `asidl.registry.ModelRegistry` or None, optional
        The registry to look ``model`` up in, so that a caller that also
        needs the model's entry reads the registry files only once; `None`
        reads them.

    Returns
    -------
    network : `CompiledNetwork` or `keras.Model`
    name : str
    normalization : str or None
    """
    from .registry import ModelRegistry

    check_precision(precision)
    if registry is None:
        registry = ModelRegistry()
    entry = registry.entries.get(model) if isinstance(model, str) else None
    if isinstance(entry, dict) and entry.get('bundled'):
        reason = None
        try:
            files = registry.openvino_files(model)
        except ValueError as exc:
            files, reason = None, str(exc)
        if files is None and reason is None:
            reason = 'it has no OpenVINO conversion in the registry'
        if files is not None:
            try:
                network = compile_network(files[0], name=model, precision=precision)
                return network, model, entry.get('normalization')
            except Exception as exc:  # ImportError, a file OpenVINO cannot read or compile
                reason = (
                    f'OpenVINO could not compile its IR {files[0]}: {exc.__class__.__name__}: {exc}'
                )
        warnings.warn(
            f'the bundled model {model!r} runs with TensorFlow, in float32, '
            f'instead of OpenVINO: {reason}. Reinstall asidl to restore it.',
            EngineWarning,
            stacklevel=3,
        )
    return registry.load_model(model)
