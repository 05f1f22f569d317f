"""Dataset examples against a brute-force computation written here: torchvision's own VGG-11 with the same
weights, every photo on its own with forward hooks on its conv modules, the maximum over positions in NumPy,
then sorted (ties included: duplicate photos, a one-colour photo). Receptive fields against REFERENCE.md §3's
closed form, memory against the number of photos, the gallery cache, cancelling, hostile collections."""

from __future__ import annotations

import io
import threading
import tracemalloc
import zipfile

import numpy as np
import pytest
from PIL import Image

from helpers import encode, photo, torchvision_twin
from vggviz import i18n

import torch  # noqa: E402
from torchvision import transforms  # noqa: E402

from vggviz.architecture.lecture import Box  # noqa: E402
from vggviz.architecture.model import build_model  # noqa: E402
from vggviz.learned import collection as collections, examples as ex, patches, store, views  # noqa: E402
from vggviz.photo import inference, model_identity  # noqa: E402

SIZE = 64
# A float32 conv computed by two kernels (channels-last here, contiguous in torchvision) differs in its last bits.
TOL = 1e-4


def loaded(config: str = "A", seed: int = 1, digest: str = "test:vgg11:1") -> inference.LoadedModel:
    model = build_model(config, seed=seed)
    lm = inference.LoadedModel(model, model.config, "random", inference.imagenet_classes(), "imagenet",
                               torch.device("cpu"))
    return model_identity.identify(inference.to_device(lm, torch.device("cpu"), False), digest)


@pytest.fixture(scope="module")
def lm():
    return loaded()


def write_photos(folder, files: dict[str, bytes]):
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def tie_photos() -> dict[str, bytes]:
    """Distinct photos, two exact duplicates (one name sorting before its twin, one after a third photo) in
    class folders and flat, and a one-colour photo whose inner units tie exactly."""
    distinct = {f"p{i}.png": encode(photo(i, (70 + 9 * i, 60 + 5 * i))) for i in range(4)}
    return {
        **distinct,
        "a/dup_of_p1.png": distinct["p1.png"],  # sorts first: it is the earlier photo of the pair
        "z/dup_of_p2.png": distinct["p2.png"],
        "flat.png": encode(Image.new("RGB", (80, 80), (90, 140, 60))),
        "deep/er/p5.jpg": encode(photo(5, (90, 64)), "JPEG", quality=90),
    }


@pytest.fixture(scope="module")
def ties(tmp_path_factory):
    return collections.open_collection(write_photos(tmp_path_factory.mktemp("ties"), tie_photos()))


def brute_force(lm, coll, preprocess: str = "imagenet", size: int = SIZE, name: str = "vgg11"):
    """photo index -> conv name -> (C, H, W) float32 maps before ReLU (the input of each ReLU: the conv's
    output, or its batch norm's), from torchvision's ``name`` with ``lm``'s weights, one photo at a time. The
    input is made by torchvision's transforms, not by the code under test."""
    reference = torchvision_twin(name, lm.model)
    mean, std = inference.mean_std(preprocess)
    if preprocess == "imagenet":
        to_tensor = transforms.Compose([transforms.Resize(round(size * 256 / 224)), transforms.CenterCrop(size),
                                        transforms.ToTensor(), transforms.Normalize(mean, std)])
    else:
        to_tensor = transforms.Compose([transforms.Resize((size, size)), transforms.ToTensor(),
                                        transforms.Normalize(mean, std)])
    convs = [k - 1 for k, m in enumerate(reference.features) if isinstance(m, torch.nn.ReLU)]
    names = [s.name for s in lm.model.specs if s.type == "conv"]
    maps = {}
    for i, file in enumerate(coll.files):
        x = to_tensor(Image.open(io.BytesIO(coll.reader.read(file))).convert("RGB"))[None]
        seen = {}
        hooks = [reference.features[k].register_forward_hook(
            lambda m, inp, out, name=name: seen.__setitem__(name, out[0].clone().numpy()))
            for k, name in zip(convs, names)]
        with torch.no_grad():
            reference(x)
        for h in hooks:
            h.remove()
        maps[i] = seen
    return maps


def expected_order(maxima: dict[int, float], largest: bool) -> list[int]:
    """The documented rule: value (higher first for the top, lower for the bottom), then the earlier photo."""
    return sorted(maxima, key=lambda i: (-maxima[i] if largest else maxima[i], i))


def check_channel(got: list[ex.Example], maps: dict, layer: str, channel: int, k: int, largest: bool) -> None:
    per_photo = {i: maps[i][layer][channel] for i in maps}
    maxima = {i: float(m.max()) for i, m in per_photo.items()}
    want = expected_order(maxima, largest)[:k]
    assert len(got) == len(want)
    for rank, e in enumerate(got):
        truth = per_photo[e.index]
        assert e.value == pytest.approx(maxima[e.index], abs=TOL, rel=TOL)
        if e.index != want[rank]:  # only two values within the float tolerance may trade places
            assert abs(maxima[want[rank]] - maxima[e.index]) <= 2 * TOL * max(1, abs(maxima[e.index]))
        w = truth.shape[1]
        first = divmod(int(np.argmax(truth)), w)  # NumPy: the first maximum in row-major order
        if e.at != first:  # a near tie between positions: the engine's is as large, and no earlier one is larger
            assert truth[e.at] >= truth.max() - 2 * TOL


LAYERS = ["conv1_1", "conv2_1", "conv3_2", "conv5_2"]


@pytest.fixture(scope="module")
def computed(lm, ties, tmp_path_factory):
    root = tmp_path_factory.mktemp("gallery")
    settings = ex.Settings(size=SIZE, top=5, bottom=4, random=3, seed=7)
    # Batches of 4 over 8 photos: the ranking is merged across batches, every batch the same shape.
    found = ex.compute(lm, ties, settings, LAYERS, batch_size=4, workers=0, root=root)
    return found, brute_force(lm, ties), root


def test_the_view_and_input_equal_the_apps_preprocessing_at_224():
    image = photo(3, (301, 207))
    for preprocess in ("imagenet", "lecture"):
        ours = views.transform(preprocess, 224)(image)
        theirs = inference.transform(preprocess)(image)
        assert ours.shape == theirs.shape == (3, 224, 224)
        assert torch.allclose(ours, theirs, atol=1e-6)  # the same operations: only rounding may differ
        # The stored view (8-bit, lossless) gives back the very input.
        png = Image.open(io.BytesIO(encode(views.view(image, preprocess, 224))))
        assert torch.equal(views.to_input(png, preprocess), ours)


def test_top_and_bottom_examples_equal_brute_force_ties_included(computed, ties):
    found, maps, _ = computed
    assert found.names == ties.files
    for layer in LAYERS:
        assert found.channels(layer) == maps[0][layer].shape[0]
        for channel in range(found.channels(layer)):
            check_channel(found.top(layer, channel), maps, layer, channel, 5, largest=True)
            check_channel(found.bottom(layer, channel), maps, layer, channel, 4, largest=False)


def test_a_batch_norm_configuration_scores_the_batch_norms_output(ties):
    """In vgg11_bn the ReLU reads the batch norm: that is the map scored (a negative scale would turn the conv's
    own ranking upside down)."""
    from helpers import batch_norm_not_identity

    model = build_model("A-BN", seed=3)
    batch_norm_not_identity(model, 3)
    with torch.no_grad():
        model.features[1].weight[:8] *= -1  # channels whose conv output and batch norm output rank oppositely
    lm = inference.LoadedModel(model, model.config, "random", inference.imagenet_classes(), "imagenet",
                               torch.device("cpu"))
    lm = model_identity.identify(inference.to_device(lm, torch.device("cpu"), False), "test:vgg11_bn:3")
    run = ex.score(lm, ties, ex.Settings(size=SIZE, top=3, bottom=3, random=0), ["conv1_1", "conv4_2"], workers=0)
    maps = brute_force(lm, ties, name="vgg11_bn")
    for layer in ("conv1_1", "conv4_2"):
        for channel in range(0, 64, 3):
            for kind, largest in (("top", True), ("bottom", False)):
                ranking = getattr(run.scores, kind)[layer]
                width = maps[0][layer].shape[2]
                got = [ex.Example(ties.files[p], int(p), float(v), divmod(int(a), width), None, None)
                       for p, v, a in zip(ranking.photos[channel], ranking.values[channel], ranking.at[channel])]
                check_channel(got, maps, layer, channel, 3, largest)


@pytest.fixture(scope="module")
def one_by_one(lm, ties, tmp_path_factory):
    """The same ranking with one photo per batch: two identical photos then go through the very same
    computation (same shape, same position, same threads), so their maxima are equal bit for bit by
    construction. (Across batches of 4 they sit at different batch positions, which a machine's kernels
    need not compute identically, and the tie rule applies only to exact ties.)"""
    settings = ex.Settings(size=SIZE, top=5, bottom=4, random=3, seed=7)
    return ex.compute(lm, ties, settings, LAYERS, batch_size=1, workers=0, root=tmp_path_factory.mktemp("one"))


def test_duplicate_photos_tie_exactly_and_the_earlier_comes_first(one_by_one, ties):
    found = one_by_one
    files = ties.files
    pairs = [(files.index("a/dup_of_p1.png"), files.index("p1.png")),
             (files.index("p2.png"), files.index("z/dup_of_p2.png"))]
    assert all(a < b for a, b in pairs)
    seen_together = 0
    for layer in LAYERS:
        for channel in range(found.channels(layer)):
            for kind in ("top", "bottom"):
                got = found.examples(layer, channel, kind)
                indices = [e.index for e in got]
                for first, second in pairs:
                    if first in indices and second in indices:
                        a, b = indices.index(first), indices.index(second)
                        assert b == a + 1, (layer, channel, kind)  # adjacent: equal values, nothing between
                        assert got[a].value == got[b].value and got[a].at == got[b].at
                        seen_together += 1
                    elif second in indices and len(got) == (5 if kind == "top" else 4):
                        # the later twin made the cut, so the earlier one (same value) must have too
                        pytest.fail(f"{layer} {channel} {kind}: later duplicate kept without the earlier")
    assert seen_together > 100  # the rule was exercised, not skipped


def test_a_one_colour_photo_puts_the_maximum_at_its_first_position(computed, ties):
    found, maps, _ = computed
    flat = ties.files.index("flat.png")
    checked = 0
    for channel in range(64):
        truth = maps[flat]["conv1_1"][channel]
        ties_at_max = np.argwhere(truth == truth.max())
        if len(ties_at_max) < 2:
            continue
        for e in found.top("conv1_1", channel) + found.bottom("conv1_1", channel):
            if e.index == flat:
                assert e.at == tuple(ties_at_max[0])  # argwhere lists row-major: the first of the exact ties
                checked += 1
    assert checked > 0


def test_the_random_sample_is_seeded_and_its_values_are_the_photos_maxima(lm, ties, computed, tmp_path):
    found, maps, _ = computed
    got = found.random("conv2_1", 3)
    assert len(got) == 3 and len({e.index for e in got}) == 3
    for e in got:
        assert e.value == pytest.approx(float(maps[e.index]["conv2_1"][3].max()), abs=TOL, rel=TOL)
    again = ex.compute(lm, ties, ex.Settings(size=SIZE, top=5, bottom=4, random=3, seed=7), LAYERS,
                       batch_size=3, workers=0, root=tmp_path)
    assert [e.index for e in again.random("conv2_1", 3)] == [e.index for e in got]  # other batches, same sample
    other = ex.compute(lm, ties, ex.Settings(size=SIZE, top=5, bottom=4, random=3, seed=8), LAYERS,
                       batch_size=4, workers=0, root=tmp_path)
    assert other.folder != again.folder


# --- receptive fields: REFERENCE.md §3 ------------------------------------------------------------------

VGG16 = [("conv", 2), ("pool",), ("conv", 2), ("pool",), ("conv", 3), ("pool",), ("conv", 3), ("pool",), ("conv", 3)]
REFERENCE_RF = {"conv1_2": (5, 1), "conv2_2": (14, 2), "conv3_3": (40, 4), "conv4_3": (92, 8), "conv5_1": (132, 16),
                "conv5_3": (196, 16)}  # REFERENCE.md §3: r, jump


def closed_form(blocks) -> dict[str, tuple[int, int, int]]:
    """Distill's closed form over VGG's 3×3/1 pad-1 convs and 2×2/2 pools: conv name -> (r, S, P), with
    r = Σ (k − 1)·∏ s + 1, S = ∏ s, P = Σ p·∏ s (the strides of the layers before)."""
    out, r, jump, pad, block, n = {}, 1, 1, 0, 1, 0
    for layer in blocks:
        if layer[0] == "pool":
            r, jump, block, n = r + jump, jump * 2, block + 1, 0
            continue
        for _ in range(layer[1]):
            n += 1
            r, pad = r + 2 * jump, pad + jump
            out[f"conv{block}_{n}"] = (r, jump, pad)
    return out


def test_patch_boxes_are_the_receptive_fields_of_reference_section_3():
    rf = closed_form(VGG16)
    for layer, (r, jump) in REFERENCE_RF.items():
        assert rf[layer][:2] == (r, jump)
    assert rf["conv5_3"][2] == 90  # Distill: pool5's effective padding is 90 (a pool adds none)
    results = ex.Examples(folder=None, meta={"model": {"config": "D"}, "settings": {"size": 224},
                                             "layers": {}}, names=[], arrays={})
    for layer, (u, v) in [("conv1_2", (0, 0)), ("conv3_3", (10, 55)), ("conv4_3", (27, 0)), ("conv5_3", (7, 13)),
                          ("conv5_3", (0, 13)), ("conv5_1", (13, 13))]:
        r, s, p = rf[layer]
        full, clipped = results.box(layer, (u, v))
        assert full == Box(u * s - p, v * s - p, u * s - p + r - 1, v * s - p + r - 1)
        assert clipped == Box(max(full.top, 0), max(full.left, 0), min(full.bottom, 223), min(full.right, 223))


def test_every_examples_box_is_its_units_receptive_field(computed):
    found, _, _ = computed
    rf = closed_form([("conv", 1), ("pool",), ("conv", 1), ("pool",), ("conv", 2), ("pool",), ("conv", 2),
                      ("pool",), ("conv", 2)])  # VGG-11 (A)
    for layer in LAYERS:
        r, s, p = rf[layer]
        for e in found.top(layer, 0) + found.bottom(layer, 1):
            (u, v) = e.at
            assert e.box == Box(u * s - p, v * s - p, u * s - p + r - 1, v * s - p + r - 1)


def test_a_patch_is_the_box_cut_from_the_view_padded_with_the_mean_colour(computed):
    found, _, _ = computed
    e = next(e for e in found.top("conv5_2", 0) if e.box.top < 0 or e.box.left < 0)
    view = np.asarray(found.view(e.index))
    assert view.shape == (SIZE, SIZE, 3)
    region = np.asarray(patches.cut(found.view(e.index), e, (1, 2, 3)))
    assert region.shape[:2] == e.box.size
    for y in range(region.shape[0]):
        for x in (0, region.shape[1] // 2, region.shape[1] - 1):
            row, col = e.box.top + y, e.box.left + x
            inside = 0 <= row < SIZE and 0 <= col < SIZE
            assert tuple(region[y, x]) == (tuple(view[row, col]) if inside else (1, 2, 3))
    assert views.padding_colour("imagenet") == (124, 116, 104)  # 0.485, 0.456, 0.406 of 255
    assert patches.patch(found, e).size == (patches.PATCH, patches.PATCH)
    assert patches.photo(found, e).size[0] > SIZE  # a grey margin shows the part past the border


def test_the_channel_map_recomputed_from_the_stored_view_is_the_scored_one(lm, computed):
    found, maps, _ = computed
    for layer, channel in [("conv1_1", 5), ("conv3_2", 17), ("conv5_2", 300)]:
        e = found.top(layer, channel)[0]
        m = ex.channel_map(lm, found, layer, channel, e.index)
        assert m.shape == maps[e.index][layer][channel].shape
        assert float(m.max()) == pytest.approx(e.value, abs=TOL, rel=TOL)
        assert np.allclose(m, maps[e.index][layer][channel], atol=TOL * 10)


# --- memory, cache, cancel ---------------------------------------------------------------------------------

def test_the_kept_state_does_not_grow_with_the_number_of_photos(lm, tmp_path):
    settings = ex.Settings(size=32, top=9, bottom=9, random=9)
    held, peaks = [], []
    for n in (20, 200):
        folder = tmp_path / str(n)
        for i in range(n):
            write_photos(folder, {f"{i:04d}.png": encode(photo(i, (16, 16)))})
        coll = collections.open_collection(folder)
        tracemalloc.start()
        run = ex.score(lm, coll, settings, batch_size=16, workers=0)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert run.scored == n
        held.append(run.scores.nbytes())
    assert held[0] == held[1] > 0  # sizes of tensors: exact
    # Python-side allocations (the photos' names are kept, nothing else per photo): a fixed margin, not 10×.
    assert peaks[1] <= 1.2 * peaks[0] + 256 * 1024


class Passes:
    """Counts forward passes through conv1_1 (a hook of the test's own)."""

    def __init__(self, lm):
        self.n = 0
        self.handle = lm.model.features[0].register_forward_hook(lambda *a: setattr(self, "n", self.n + 1))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.handle.remove()


def hooks(lm) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in lm.model.modules())


def test_the_cache_is_read_back_and_any_change_is_another_entry(lm, ties, tmp_path):
    settings = ex.Settings(size=SIZE, top=3, bottom=0, random=0)
    with Passes(lm) as passes:
        first = ex.compute(lm, ties, settings, ["conv2_1"], workers=0, root=tmp_path)
        assert passes.n > 0
        passes.n = 0
        again = ex.compute(lm, ties, settings, ["conv2_1"], workers=0, root=tmp_path)
        assert passes.n == 0 and again.folder == first.folder
        assert again.record() == first.record()
        # An entry holding more layers serves a request for fewer.
        wide = ex.compute(lm, ties, settings, ["conv1_1", "conv3_1"], workers=0, root=tmp_path)
        passes.n = 0
        assert ex.compute(lm, ties, settings, ["conv3_1"], workers=0, root=tmp_path).folder == wide.folder
        assert passes.n == 0
        assert ex.find(lm, ties.digest, ex.Settings(size=SIZE, top=3, bottom=0, random=0, preprocess="lecture"),
                       ["conv2_1"], root=tmp_path) is None
        lecture = ex.compute(lm, ties, ex.Settings(size=SIZE, top=3, bottom=0, random=0, preprocess="lecture"),
                             ["conv2_1"], workers=0, root=tmp_path)
        assert passes.n > 0 and lecture.folder != first.folder
    folder = tmp_path / "more"
    write_photos(folder, {**tie_photos(), "extra.png": encode(photo(9, (50, 50)))})
    bigger = ex.compute(lm, collections.open_collection(folder), settings, ["conv2_1"], workers=0, root=tmp_path)
    assert bigger.folder != first.folder
    other_weights = loaded(seed=2, digest="test:vgg11:2")
    assert ex.find(other_weights, ties.digest, settings, ["conv2_1"], root=tmp_path) is None
    # A student's page, without the collection: the model's entries, newest first.
    listed = ex.entries(lm, tmp_path)
    assert {e.folder for e in listed} == {first.folder, wide.folder, lecture.folder, bigger.folder}
    assert all(e.meta["model"] == {"config": "A", "digest": "test:vgg11:1"} for e in listed)
    assert ex.entries(other_weights, tmp_path) == []
    # An entry still being written (a temporary folder, renamed into place when complete) is not offered.
    (tmp_path / ex.FOLDER / ".partial.part").mkdir()
    (tmp_path / ex.FOLDER / ".partial.part" / ex.FILE).write_bytes((first.folder / ex.FILE).read_bytes())
    assert len(ex.entries(lm, tmp_path)) == len(listed)
    assert store.root({store.ENV: str(tmp_path)}) == tmp_path


def test_a_damaged_entry_is_computed_again(lm, ties, tmp_path):
    settings = ex.Settings(size=SIZE, top=2, bottom=0, random=0)
    first = ex.compute(lm, ties, settings, ["conv1_1"], workers=0, root=tmp_path)
    (first.folder / ex.FILE).write_bytes(b"PK\x03\x04 damaged")
    assert ex.find(lm, ties.digest, settings, ["conv1_1"], root=tmp_path) is None
    again = ex.compute(lm, ties, settings, ["conv1_1"], workers=0, root=tmp_path)
    assert again.folder == first.folder and again.record() == first.record()


def test_a_cancelled_run_writes_nothing_and_leaves_no_hook(lm, ties, tmp_path):
    before = hooks(lm)
    stop = threading.Event()
    calls = []

    def progress(p):
        calls.append(p.done)
        stop.set()  # as a Cancel button pressed during the first batch

    with pytest.raises(ex.ExamplesError) as err:
        ex.compute(lm, ties, ex.Settings(size=SIZE), batch_size=2, workers=0, progress=progress, cancel=stop,
                   root=tmp_path)
    assert err.value.code == "cancelled" and calls == [2]
    assert hooks(lm) == before
    assert not (tmp_path / ex.FOLDER).exists() or list((tmp_path / ex.FOLDER).iterdir()) == []
    # Cancelled while the views are written: the half-written folder is removed, no entry appears.
    run = ex.score(lm, ties, ex.Settings(size=SIZE), ["conv1_1"], workers=0)
    with pytest.raises(ex.ExamplesError):
        ex.save(lm, ties, ex.Settings(size=SIZE), run, tmp_path, cancel=lambda: True)
    assert list((tmp_path / ex.FOLDER).iterdir()) == []
    assert hooks(lm) == before


def test_the_time_estimate_is_photos_times_the_measured_pass(lm, ties):
    per_photo = ex.seconds_per_photo(lm, ex.Settings(size=SIZE), batch_size=4)
    assert per_photo > 0
    assert ex.estimate(lm, ties, ex.Settings(size=SIZE), batch_size=4) == pytest.approx(8 * per_photo)


# --- collections and hostile input ---------------------------------------------------------------------------

def both(err: Exception) -> tuple[str, str]:
    with i18n.use("zh"):
        zh = str(err)
    return str(err), zh


def test_a_zip_and_a_folder_with_the_same_photos_are_one_collection(ties, tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in tie_photos().items():
            zf.writestr(name, data)
        zf.writestr("__MACOSX/._p1.png", b"junk")
    zipped = collections.open_collection(buf.getvalue(), "ties.zip")
    assert zipped.files == ties.files and zipped.digest == ties.digest and zipped.name == "ties.zip"
    renamed = {("q0.png" if k == "p0.png" else k): v for k, v in tie_photos().items()}
    assert collections.open_collection(write_photos(tmp_path / "r", renamed)).digest != ties.digest
    assert collections.samples().files == sorted(["astronaut.jpg", "chelsea.jpg", "coffee.jpg", "rocket.jpg"])


def test_an_empty_collection_says_so_in_both_languages(lm, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ex.ExamplesError) as err:
        ex.compute(lm, collections.open_collection(tmp_path / "empty"), ex.Settings(size=SIZE), workers=0,
                   root=tmp_path)
    en, zh = both(err.value)
    assert en == "empty holds no photos: add JPEG, PNG, WebP, BMP, GIF, TIFF, HEIC or HEIF files"
    assert "empty" in zh and "照片" in zh and zh != en


def test_a_collection_of_only_bad_files_says_so_and_lists_why(lm, tmp_path):
    folder = write_photos(tmp_path / "bad", {"notes.jpg": b"not a photo at all", "cut.png": encode(photo(1))[:60],
                                             "tiny.png": encode(Image.new("RGB", (4, 4)))})
    with pytest.raises(ex.ExamplesError) as err:
        ex.score(lm, collections.open_collection(folder), ex.Settings(size=SIZE), workers=0)
    en, zh = both(err.value)
    assert en == "bad holds no photo that could be read (3 files skipped)"
    assert "3" in zh and zh != en
    assert not (tmp_path / ex.FOLDER).exists()


def test_bad_files_are_skipped_with_their_reasons_and_the_rest_is_scored(lm, ties, tmp_path):
    folder = write_photos(tmp_path / "mixed", {**tie_photos(), "notes.jpg": b"not a photo"})
    found = ex.compute(lm, collections.open_collection(folder), ex.Settings(size=SIZE, top=2), ["conv1_1"],
                       workers=0, root=tmp_path)
    assert [s.file for s in found.skipped] == ["notes.jpg"]
    assert "notes.jpg" in str(found.skipped[0].reason)
    assert found.meta["collection"]["scored"] == 8
    assert "notes.jpg" not in {e.photo for c in range(64) for e in found.top("conv1_1", c)}


@pytest.mark.parametrize("layer", ["conv6_1", "fc6", "pool1", "relu1_1"])
def test_an_unknown_layer_names_the_conv_layers_in_both_languages(lm, ties, layer):
    with pytest.raises(ex.ExamplesError) as err:
        ex.score(lm, ties, ex.Settings(size=SIZE), [layer], workers=0)
    en, zh = both(err.value)
    assert en.startswith(f"{layer} is not a conv layer of A: choose one of conv1_1, conv2_1, conv3_1")
    assert "卷积层" in zh and "conv5_2" in zh


def test_settings_out_of_range_are_refused(lm, ties):
    with pytest.raises(ex.ExamplesError) as err:
        ex.score(lm, ties, ex.Settings(size=SIZE, top=0), workers=0)
    assert str(err.value) == "the number of dataset examples must be between 1 and 100, not 0"
    with pytest.raises(ValueError):
        ex.score(lm, ties, ex.Settings(size=SIZE, preprocess="caffe"), workers=0)


def test_hostile_collections_get_evaluates_defences(tmp_path):
    from vggviz.evaluate.errors import EvaluationError

    def zipped(files: dict[str, bytes]) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in files.items():
                zf.writestr(name, data)
        return buf.getvalue()

    with pytest.raises(EvaluationError) as err:
        collections.open_collection(zipped({"ok.png": encode(photo(0)), "../evil.png": b"x"}), "evil.zip")
    assert err.value.code == "unsafe_name"
    with pytest.raises(EvaluationError) as err:
        collections.open_collection(zipped({"bomb.png": bytes(50 * 2**20)}), "bomb.zip")
    assert err.value.code == "bomb"
    with pytest.raises(EvaluationError) as err:
        collections.open_collection(b"not a zip", "x.zip")
    assert err.value.code == "not_zip"
    folder = write_photos(tmp_path / "f", {"a.png": encode(photo(0)), "inner.zip": zipped({"b.png": b"x"})})
    (folder / "link.png").symlink_to(folder / "a.png")
    coll = collections.open_collection(folder)
    assert coll.files == ["a.png"]
    assert {s.file: s.reason.code for s in coll.skipped} == {"inner.zip": "nested_archive", "link.png": "symlink"}


def test_half_precision_scores_the_same_examples(ties):
    """What a GPU in float16 runs, on the CPU: the maps in half precision, the values kept as float32."""
    single, half = loaded(), loaded()
    inference.move(half, torch.device("cpu"), torch.float16)
    settings = ex.Settings(size=SIZE, top=3, bottom=0, random=0)
    a = ex.score(single, ties, settings, ["conv1_1", "conv3_1"], workers=0).scores
    b = ex.score(half, ties, settings, ["conv1_1", "conv3_1"], workers=0).scores
    for layer in ("conv1_1", "conv3_1"):
        va, vb = a.top[layer].values, b.top[layer].values
        assert vb.dtype == torch.float32
        assert torch.allclose(va, vb, rtol=1e-2, atol=1e-2)  # float16 keeps about 3 significant digits
        clear = (va[:, 0] - va[:, 1]) > 0.05 * va[:, 0].abs().clamp(min=1)  # a clear winner wins in both
        assert clear.sum() > 10
        assert torch.equal(a.top[layer].photos[clear, 0], b.top[layer].photos[clear, 0])
