"""Every conv layer's feature maps and the logits from one forward pass.

``create_feature_extractor`` (torchvision) traces the model into one graph that returns the chosen
nodes. Returned as they are, the maps keep every float32 conv output alive for the whole pass, and
each (non-inplace, for captum) ReLU writes a fresh tensor beside it. ``compact`` rewrites that graph,
by hand since torchvision has no option for it: each map is copied to ``MAPS_DTYPE`` the moment it
exists, together with its range, and the ReLU after it then rectifies the float32 output in place.
"""

from __future__ import annotations

import copy

import torch
from torch import fx, nn
from torchvision.models.feature_extraction import create_feature_extractor

from ..architecture.model import VGG

# Every photo a class looks at keeps its maps in the cache, so they are stored in half precision:
# 27 MB instead of 54 for vgg16 at 224×224, with 3 significant digits, as many as the app shows
# (8-bit colours, 3-digit statistics). A layer with values beyond float16's range stays float32.
MAPS_DTYPE = torch.float16
LOGITS = "logits"


def map_nodes(model: VGG) -> dict[str, str]:
    """Paper conv name -> path of the module whose output is that conv's map before ReLU
    (the conv itself, or its batch norm)."""
    nodes, last = {}, None
    for spec in model.specs:
        if spec.type == "conv":
            last = spec.name
            nodes[last] = spec.module
        elif spec.type == "bn" and last:
            nodes[last] = spec.module
    return nodes


def extractor(model: VGG) -> fx.GraphModule:
    """One graph returning ``{conv name: map, ..., "logits": logits}``, maps in the model's dtype.
    It shares the model's parameters and adds no hooks to it."""
    nodes = {path: name for name, path in map_nodes(model).items()}
    nodes[model.specs[-1].module] = LOGITS
    return create_feature_extractor(model, return_nodes=nodes).eval()


def compact(plain: fx.GraphModule) -> fx.GraphModule:
    """``plain``'s graph returning ``{conv name: (map as MAPS_DTYPE, min, max), "logits": logits}``,
    each ReLU that only rectified a map made in place. For inference only (no autograd through it);
    it shares ``plain``'s modules."""
    graph = copy.deepcopy(plain.graph)
    output = next(n for n in graph.nodes if n.op == "output")
    returned = dict(output.args[0])
    for name, node in list(returned.items()):
        if name == LOGITS:
            continue
        users = [u for u in node.users if u is not output]
        with graph.inserting_after(node):
            stored = graph.call_method("to", (node,), {"dtype": MAPS_DTYPE, "copy": True})
        with graph.inserting_after(stored):
            lo = graph.call_method("amin", (node,))
        with graph.inserting_after(lo):
            hi = graph.call_method("amax", (node,))
        returned[name] = (stored, lo, hi)
        relus = [u for u in users if u.op == "call_module" and isinstance(plain.get_submodule(u.target), nn.ReLU)]
        if users == relus and len(relus) == 1:  # nothing else reads the map: rectify it in place
            with graph.inserting_before(relus[0]):
                inplace = graph.call_function(torch.relu_, (node,))
            relus[0].replace_all_uses_with(inplace)
            graph.erase_node(relus[0])
    output.args = (returned,)
    graph.lint()
    return fx.GraphModule(plain, graph).eval()


def overflowing(out: dict[str, tuple[torch.Tensor, torch.Tensor, torch.Tensor]]) -> set[str]:
    """The maps of a ``compact`` graph's output whose values ``MAPS_DTYPE`` cannot hold."""
    limit = torch.finfo(MAPS_DTYPE).max
    names = [name for name in out if name != LOGITS]
    if not names:
        return set()
    bound = torch.stack([torch.maximum(-out[n][1].float(), out[n][2].float()) for n in names])
    return {n for n, over in zip(names, (bound > limit).tolist()) if over}
