"""Feature visualisation, class models, conv1_1's filters and a layer's gallery (issue 22), against independent
references: lucent's published numbers and formulas re-derived in plain torch here, planted filters whose best
input is known, a brute-force search over photos, and the shared model left exactly as it was.

Tiny runs: a planted VGG-11 (hidden width 8), 32–48 px images, a few dozen steps."""

from __future__ import annotations

import re
import threading

import numpy as np
import pytest
import torch
from PIL import Image
from torch.nn import functional as F

from vggviz import i18n
from vggviz.architecture import configs
from vggviz.architecture.model import build_model
from vggviz.learned import class_model as cm, filters, gallery, layer_gallery, network, parameterisation as param
from vggviz.learned import transforms as tr, visualize as vis
from vggviz.photo.inference import LoadedModel

import planted

# planted conv1_1 channels (0, 1, 2 carry R, G, B on, as planted.py's): a vertical edge (dark left, bright
# right), red minus green, blue
EDGE, RED, BLUE = 3, 4, 5
COLOURS = ["red", "green", "blue", "other 1", "other 2", "other 3"]


def edge_kernel() -> torch.Tensor:
    k = torch.zeros(3, 3, 3)
    k[:, :, 0], k[:, :, 2] = -1.0, 1.0
    return k


def planted_model(dtype: torch.dtype = torch.float32) -> LoadedModel:
    """planted.py's VGG-11 (colour passed through every layer), with conv1_1's channels 3, 4, 5 an edge filter,
    "red minus green" and "blue", and a head whose classes 0, 1, 2 ("red", "green", "blue") read R, G, B as the
    features carry them: each colour's largest value over the image, plus 1."""
    sd = planted.state_dict("A")
    w = sd["features.0.weight"]
    w[EDGE] = edge_kernel()
    w[RED, 0, 1, 1], w[RED, 1, 1, 1] = 1.0, -1.0
    w[BLUE, 2, 1, 1] = 1.0
    sd["classifier.6.weight"].zero_()
    sd["classifier.6.bias"].zero_()
    for c in range(3):
        sd["classifier.6.weight"][c, c] = 1.0
    model = build_model("A", num_classes=len(COLOURS), hidden=planted.HIDDEN, seed=None)
    model.load_state_dict(sd)
    model.to(dtype)
    lm = LoadedModel(model.eval(), configs.resolve("A"), "checkpoint:planted.pth", COLOURS, "lecture",
                     torch.device("cpu"), dtype)
    lm.digest = f"sha256:planted-{dtype}"
    return lm


@pytest.fixture(scope="module", autouse=True)
def _one_thread(one_torch_thread):
    """Many tiny optimisation steps: one thread (conftest's one_torch_thread says why)."""


@pytest.fixture(scope="module")
def lm():
    return planted_model()


@pytest.fixture(autouse=True)
def gallery_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("VGGVIZ_GALLERY", str(tmp_path / "gallery"))
    return tmp_path / "gallery"


FAST = vis.Settings(steps=48, size=32, upsample=None, lr=0.4)  # few steps: a larger step than lucent's


def normalised(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> the lecture's normalised input (N, 3, H, W): (x − 0.5) / 0.5."""
    x = torch.from_numpy(images).float().permute(0, 3, 1, 2) / 255
    return (x - 0.5) / 0.5


def conv1(lm: LoadedModel, images: np.ndarray) -> torch.Tensor:
    """conv1_1's output for uint8 images, in plain torch (the reference)."""
    conv = lm.model.features[0]
    return F.conv2d(normalised(images), conv.weight.detach().float(), conv.bias.detach().float(), padding=1)


# --- lucent's published numbers ------------------------------------------------------------------

def test_colour_matrix_and_spectrum_scale_are_lucents():
    published = np.array([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
    assert np.array(param.COLOR_CORRELATION_SVD_SQRT) == pytest.approx(published)
    column_norms = np.sqrt((published ** 2).sum(axis=0))  # 0.4596, 0.1273, 0.0616
    assert param.color_correlation().numpy() == pytest.approx(published / column_norms.max(), abs=1e-6)
    for h, w in ((8, 8), (7, 9), (128, 128)):  # lucid's rfft2d_freqs, odd widths keep one more column
        fy = np.fft.fftfreq(h)[:, None]
        fx = np.fft.fftfreq(w)[: w // 2 + 2] if w % 2 else np.fft.fftfreq(w)[: w // 2 + 1]
        scale = 1.0 / np.maximum(np.sqrt(fx * fx + fy * fy), 1.0 / max(w, h)) ** 1
        assert param.spectrum_scale(h, w).numpy() == pytest.approx(scale, rel=1e-6)  # float32 of float64
    # exact: the reciprocal of 1/128, a binary fraction
    assert param.spectrum_scale(128, 128)[0, 0] == 128 and param.spectrum_scale(128, 128)[0, 64] == pytest.approx(2)


def test_fourier_image_is_lucents_fft_image_then_to_valid_rgb():
    gen = torch.Generator().manual_seed(3)
    image = param.FourierImage(2, 16, gen)
    spectrum = image.spectrum.detach()
    assert spectrum.shape == (2, 3, 16, 9, 2) and spectrum.std().item() == pytest.approx(0.01, rel=0.1)
    # lucent's fft_image inner() and to_valid_rgb(decorrelate=True), written again in plain torch
    fy, fx = np.fft.fftfreq(16)[:, None], np.fft.fftfreq(16)[:9]
    scale = torch.tensor(1.0 / np.maximum(np.sqrt(fx * fx + fy * fy), 1 / 16)).float()[None, None, ..., None]
    x = torch.fft.irfftn(torch.view_as_complex(scale * spectrum), s=(16, 16), norm="ortho")[:2, :3, :16, :16] / 4.0
    m = torch.tensor([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
    m = m / m.norm(dim=0).max()
    expected = torch.sigmoid((x.permute(0, 2, 3, 1) @ m.T).permute(0, 3, 1, 2))
    assert torch.allclose(image(), expected, atol=1e-6)  # float rounding of one FFT
    assert image().shape == (2, 3, 16, 16)


def test_copies_start_from_the_same_image():
    a = param.FourierImage(1, 8, torch.Generator().manual_seed(5), copies=3).spectrum.detach()
    b = param.FourierImage(1, 8, torch.Generator().manual_seed(5)).spectrum.detach()
    assert all(torch.equal(a[i], b[0]) for i in range(3))  # exact: copies of one draw


# --- transforms ----------------------------------------------------------------------------------

def test_transforms_are_lucents_and_leave_the_global_generator_alone():
    assert tr.SCALES == pytest.approx([0.9, 0.92, 0.94, 0.96, 0.98, 1.0, 1.02, 1.04, 1.06, 1.08, 1.1])
    assert sorted(set(tr.ANGLES)) == list(range(-10, 11)) and tr.ANGLES.count(0) == 6 and len(tr.ANGLES) == 26
    x = torch.rand(2, 3, 20, 20)
    padded = tr.pad(x)
    # exact: a fill value and a copy
    assert padded.shape == (2, 3, 44, 44) and torch.all(padded[..., :12, :] == 0.5)
    assert torch.equal(padded[..., 12:32, 12:32], x)
    state = torch.get_rng_state()
    gen = torch.Generator().manual_seed(0)
    shifted = tr.jitter(x, 8, gen)
    dx, dy = (int(v) for v in torch.randint(8, (2,), generator=torch.Generator().manual_seed(0)))
    assert dx + dy > 0 and shifted.shape == x.shape
    assert torch.equal(shifted[..., dy:, dx:], x[..., :20 - dy, :20 - dx])  # a shift, zeros behind
    assert torch.all(shifted[..., :dy, :] == 0) and torch.all(shifted[..., :, :dx] == 0)
    out = [tr.standard(x, torch.Generator().manual_seed(1)) for _ in range(2)]
    assert torch.equal(out[0], out[1])  # seeded; exact: the same ops on the same input in the same thread
    assert torch.equal(torch.get_rng_state(), state)  # torch's global generator untouched
    assert torch.equal(tr.random_rotate(x, gen, angles=(0,)), x)


# --- the objective rises to the planted filter's pattern ----------------------------------------

def test_centre_unit_of_a_planted_edge_filter_draws_the_edge(lm):
    settings = vis.Settings(steps=40, size=33, upsample=None, unit="centre", transforms=False, lr=0.1)
    v = vis.visualize(lm, "conv1_1", EDGE, settings, cache=False)[0]
    patch = normalised(v.images)[0, :, 15:18, 15:18]  # the centre unit (16, 16) sees rows and columns 15…17
    corr = np.corrcoef(patch.flatten().numpy(), edge_kernel().flatten().numpy())[0, 1]
    assert corr > 0.9, corr
    assert v.end > v.start + 10 and v.curve[-1] > v.curve[0]
    assert v.end == pytest.approx(float(conv1(lm, v.images)[0, EDGE, 16, 16]), abs=0.08)  # the uint8 rounding


def sample_patches(size: int = 32) -> np.ndarray:
    """The bundled sample photos, whole (resized) and cut into size × size patches: a small collection."""
    out = []
    for path in sorted(planted.ROOT.glob("vggviz/samples/*.jpg")):
        photo = Image.open(path).convert("RGB")
        out.append(np.asarray(photo.resize((size, size))))
        small = np.asarray(photo.resize((8 * size, 8 * size * photo.height // photo.width)))
        out += [small[r:r + size, c:c + size] for r in range(0, small.shape[0] - size + 1, size)
                for c in range(0, small.shape[1] - size + 1, size)]
    return np.stack(out)


def test_a_planted_colour_channel_beats_noise_and_the_best_photo(lm):
    """lucent's own settings (512 steps, lr 0.05), at 32 px."""
    v = vis.visualize(lm, "conv1_1", RED, vis.Settings(size=32, upsample=None), cache=False)[0]
    assert v.end > v.start + 1 and v.curve[-1] > v.curve[0]
    rgb = v.images[0].reshape(-1, 3).astype(float).mean(axis=0)
    assert rgb[0] > 180 and rgb[1] < 60  # red everywhere, with the full pipeline (transforms, decorrelation)
    photos = sample_patches()
    assert len(photos) >= 100
    noise = (np.random.default_rng(0).random((64, 32, 32, 3)) * 255).astype(np.uint8)
    best_photo = conv1(lm, photos)[:, RED].mean(dim=(1, 2)).max().item()  # brute force
    best_noise = conv1(lm, noise)[:, RED].mean(dim=(1, 2)).max().item()
    assert v.end >= best_photo and v.end > best_noise + 1.0, (v.end, best_photo, best_noise)
    assert v.end == pytest.approx(conv1(lm, v.images)[0, RED].mean().item(), abs=0.02)  # the uint8 rounding


def test_negative_lowers_the_channel(lm):
    v = vis.visualize(lm, "conv1_1", RED, vis.Settings(steps=24, size=32, upsample=None, lr=0.4, negative=True),
                      cache=False)[0]
    assert conv1(lm, v.images)[0, RED].mean().item() < -0.5 and v.end > 0.5  # the objective is minus the channel


def test_a_batch_of_channels_is_each_channel_run_alone(lm):
    batch = vis.visualize(lm, "conv1_1", [RED, BLUE], FAST, seed=4, cache=False)
    alone = [vis.visualize(lm, "conv1_1", c, FAST, seed=4, cache=False)[0] for c in (RED, BLUE)]
    for b, a, c in zip(batch, alone, (RED, BLUE)):
        assert b.channel == c and b.end > b.start  # each channel's image raises its own channel
        assert np.abs(b.images.astype(int) - a.images.astype(int)).max() <= 2  # batched float rounding
        assert b.end == pytest.approx(a.end, rel=1e-3)
    act = conv1(lm, np.concatenate([b.images for b in batch])).mean(dim=(2, 3))
    assert act[0, RED] > act[1, RED] + 1 and act[1, BLUE] > act[0, BLUE] + 1


def test_same_seed_same_image_another_seed_another(lm):
    settings = vis.Settings(steps=6, size=32, upsample=None)
    a, b, c = (vis.visualize(lm, "conv2_1", 3, settings, seed=s, cache=False)[0] for s in (1, 1, 2))
    assert np.abs(a.images.astype(int) - b.images.astype(int)).max() <= 1  # float nondeterminism only
    assert np.abs(a.images.astype(int) - c.images.astype(int)).max() > 1


def test_diversity_pushes_four_images_apart(lm):
    kw = dict(steps=32, size=32, upsample=None, lr=0.1)
    plain = vis.visualize(lm, "conv2_1", 0, vis.Settings(images=4, **kw), cache=False)[0]
    diverse = vis.visualize(lm, "conv2_1", 0, vis.Settings.diverse(**kw), cache=False)[0]
    assert diverse.images.shape == (4, 32, 32, 3) and diverse.settings.diversity == 100

    def similarity(images: np.ndarray) -> float:
        """Σ_{i≠j} cos(G_i, G_j) of the Gram matrices at conv2_1, in plain torch."""
        act = network.truncated(lm, "conv2_1")(normalised(images)).flatten(2)
        grams = F.normalize((act @ act.transpose(1, 2)).flatten(1), dim=1)
        cos = grams @ grams.T
        return float(cos.sum() - cos.diagonal().sum())
    assert similarity(diverse.images) < similarity(plain.images) - 0.5


def test_diversity_term_is_olahs(lm):
    act = torch.randn(4, 5, 3, 3)
    score, div = vis.channel_objective(act, [2], vis.Settings(images=4, diversity=1.0))
    flat = act.view(4, 5, -1)
    grams = [F.normalize((f @ f.T).flatten(), dim=0) for f in flat]
    expected = -sum((grams[i] * grams[j]).sum() for i in range(4) for j in range(4) if i != j) / 4  # lucent's
    assert div.item() == pytest.approx(expected.item(), rel=1e-5)
    assert score.item() == pytest.approx(act[:, 2].mean().item(), rel=1e-5)


# --- the shared model is left as it was ---------------------------------------------------------

def hooks(model: torch.nn.Module) -> int:
    return sum(len(d) for m in model.modules() for d in (m._forward_hooks, m._forward_pre_hooks,
                                                          m._backward_hooks, m._backward_pre_hooks))


def test_nothing_past_the_target_layer_runs_and_the_shared_model_is_untouched(lm):
    called: list[str] = []
    twin = network.twin(lm)
    k = network.check_layer(lm, "conv2_1")
    handles = [m.register_forward_hook(lambda m, i, o, n=n: called.append(n)) for n, m in twin.named_modules()
               if n.startswith("classifier.") or n == "avgpool"
               or (n.startswith("features.") and int(n.split(".")[1]) > k)]
    shared: list[str] = []
    handles += [m.register_forward_hook(lambda *a: shared.append("x")) for m in lm.model.modules()]
    first = [twin.features[k].register_forward_hook(lambda *a: called.append("target"))]
    before = {n: (p.requires_grad, p.detach().clone()) for n, p in lm.model.named_parameters()}
    try:
        vis.visualize(lm, "conv2_1", [0, 1], vis.Settings(steps=3, size=32, upsample=None), cache=False)
    finally:
        for h in handles + first:
            h.remove()
    assert called and set(called) == {"target"}  # the target layer ran, nothing past it did
    assert shared == []  # the shared modules never ran
    for n, p in lm.model.named_parameters():
        assert p.requires_grad == before[n][0] and p.grad is None and torch.equal(p.detach(), before[n][1])
    assert hooks(lm.model) == 0 and hooks(twin) == 0


def test_cancel_leaves_no_hook_and_no_file(lm, gallery_folder):
    event, seen = threading.Event(), []

    def progress(p: vis.Progress) -> None:
        seen.append(p)
        event.set()
    with pytest.raises(network.Cancelled):
        vis.visualize(lm, "conv1_1", [0, 1], vis.Settings(steps=40, size=32, upsample=None), progress=progress,
                      every=2, cancel=event)
    assert len(seen) == 1 and seen[0].step == 2 and seen[0].images.shape == (2, 32, 32, 3)
    assert seen[0].images.dtype == np.uint8 and seen[0].targets == (0, 1)
    assert not gallery_folder.exists() or not [p for p in gallery_folder.rglob("*") if p.is_file()]
    assert hooks(lm.model) == 0 and hooks(network.twin(lm)) == 0
    with pytest.raises(network.Cancelled):
        vis.visualize(lm, "conv1_1", 0, FAST, cancel=lambda: True)


def test_progress_every_n_steps_and_a_time_estimate(lm):
    seen = []
    vis.visualize(lm, "conv1_1", 0, vis.Settings(steps=7, size=32, upsample=None), progress=seen.append, every=3,
                  cache=False)
    assert [p.step for p in seen] == [3, 6, 7] and all(p.total == 7 for p in seen)
    seconds = vis.estimate(lm, "conv1_1", [0, 1], vis.Settings(steps=100, size=32, upsample=None))
    assert 0 < seconds < 600
    for method, settings in (("simonyan", cm.SimonyanSettings(steps=50, size=32)),
                             ("fourier", vis.Settings(steps=50, size=32, upsample=None))):
        assert 0 < cm.estimate(lm, method, settings) < 600


def test_results_are_cached_in_the_gallery_folder_and_open_at_once(lm, gallery_folder):
    settings = vis.Settings(steps=5, size=32, upsample=None)
    first = vis.visualize(lm, "conv1_1", [2, 0], settings, seed=3)
    assert not any(v.cached for v in first)
    again = vis.visualize(lm, "conv1_1", [0, 2], settings, seed=3, cancel=lambda: True)  # nothing to optimise
    assert all(v.cached for v in again) and [v.channel for v in again] == [0, 2]
    assert np.array_equal(again[1].images, first[0].images) and again[1].curve == pytest.approx(first[0].curve)
    assert again[1].settings == first[0].settings and again[1].settings.preprocess == "lecture"
    where = gallery.folder("A", lm.digest, "conv1_1", settings.resolved(lm).record())
    assert sorted(p.name for p in where.iterdir()) == ["c0000-s3-0.png", "c0000-s3.json", "c0002-s3-0.png",
                                                      "c0002-s3.json"]
    assert gallery.store.read_json(where.parents[1] / "model.json") == {
        "config": "A", "weights": "checkpoint:planted.pth", "digest": lm.digest}
    assert vis.cached(lm, "conv1_1", 0, settings, seed=4) is None  # another seed
    assert vis.cached(lm, "conv1_1", 0, vis.Settings(steps=6, size=32, upsample=None), seed=3) is None
    (where / "c0000-s3-0.png").write_bytes(b"not a png")  # a damaged entry is computed again
    assert vis.cached(lm, "conv1_1", 0, settings, seed=3) is None
    (where / "c0002-s3.json").write_text('{"files": ["c0002-s3-0.png"], "settings": {"steps": -1}}')
    assert vis.cached(lm, "conv1_1", 2, settings, seed=3) is None
    # the same weights loaded again (another object) find the entries
    vis.visualize(lm, "conv1_1", 1, settings, seed=3)
    assert vis.cached(planted_model(), "conv1_1", 1, settings, seed=3) is not None


def test_a_folder_that_cannot_be_written_costs_the_cache_not_the_result(lm, gallery_folder, caplog):
    gallery_folder.parent.mkdir(parents=True, exist_ok=True)
    gallery_folder.write_text("a file where the folder should be")
    v = vis.visualize(lm, "conv1_1", 0, vis.Settings(steps=2, size=32, upsample=None))[0]
    c = cm.class_model(lm, 0, "simonyan", cm.SimonyanSettings(steps=1, size=32))
    assert v.images.shape == (1, 32, 32, 3) and c.image.shape == (32, 32, 3) and not v.cached
    assert "could not be written" in caplog.text


def test_half_precision_on_the_cpu():
    """The path a GPU runs with --half, in float16 on the CPU."""
    lm16 = planted_model(torch.float16)
    v = vis.visualize(lm16, "conv1_1", RED, vis.Settings(steps=24, size=32, upsample=None, lr=0.4), cache=False)[0]
    assert v.end > v.start + 0.5 and np.isfinite(v.curve).all()
    v32 = vis.visualize(planted_model(), "conv1_1", RED, vis.Settings(steps=24, size=32, upsample=None, lr=0.4),
                        cache=False)[0]
    assert v.end == pytest.approx(v32.end, abs=0.05)  # float16's 3 significant digits, over 24 steps
    assert network.twin(lm16).features[0].weight.dtype == torch.float16
    for method, settings in (("simonyan", cm.SimonyanSettings(steps=5, size=32)),
                             ("fourier", vis.Settings(steps=10, size=32, upsample=None, lr=0.4, decorrelate=False))):
        c = cm.class_model(lm16, "green", method, settings, cache=False)
        assert c.end > c.start + 0.5 and np.isfinite(c.curve).all(), method


def test_upsampling_to_224_as_lucent():
    lm = planted_model()
    seen = []
    net = network.truncated(lm, "conv1_1")
    handle = net[0].register_forward_pre_hook(lambda m, args: seen.append(tuple(args[0].shape)))
    try:
        vis.visualize(lm, "conv1_1", 0, vis.Settings(steps=1, size=32), cache=False)
        vis.visualize(lm, "conv1_1", 0, vis.Settings(steps=1, size=32, upsample=None, transforms=False), cache=False)
    finally:
        handle.remove()
    assert seen[0][-2:] == (224, 224) and seen[-1][-2:] == (32, 32)


# --- class models --------------------------------------------------------------------------------

@pytest.mark.parametrize("method, settings", [
    ("simonyan", cm.SimonyanSettings(steps=20, size=32)),
    # The planted head reads each colour's largest value over the image: decorrelated colour ties them all at
    # saturation somewhere (every logit 2), so here the Fourier image runs in plain RGB.
    ("fourier", vis.Settings(steps=30, size=32, upsample=None, lr=0.4, decorrelate=False)),
])
def test_class_model_raises_its_class_above_every_other(lm, method, settings):
    result = cm.class_model(lm, "green", method, settings, cache=False)
    logits = lm.model(normalised(result.image[None]))[0].detach()
    assert result.index == 1 and result.name == "green"
    assert logits[1] > logits[[0, 2, 3, 4, 5]].max() + 0.1, logits
    assert result.end > result.start + 0.5
    if method == "fourier":  # its image is in range; Simonyan's is clipped for display
        assert result.end == pytest.approx(logits[1].item(), abs=0.02)  # the uint8 rounding


def test_simonyan_starts_from_the_zero_image_with_the_mean_added_back(lm):
    result = cm.class_model(lm, 2, "simonyan", cm.SimonyanSettings(steps=1, size=32, lr=0.0), cache=False)
    assert np.all(result.image == 128)  # zero in the lecture's normalised space is mean 0.5 (exact: 0·0.5 + 0.5)
    assert result.start == pytest.approx(1.0, abs=1e-5)  # the planted blue logit of a grey image


def test_simonyan_is_plain_gradient_ascent_on_the_l2_regularised_logit(lm):
    s = cm.SimonyanSettings(steps=2, size=32, lr=0.5, l2=0.1)
    result = cm.class_model(lm, 0, "simonyan", s, cache=False)
    x = torch.zeros(1, 3, 32, 32, requires_grad=True)  # the paper's update, written out
    values = []
    for _ in range(2):
        value = lm.model(x)[0, 0] - 0.1 * x.pow(2).sum()
        (g,) = torch.autograd.grad(value, x)
        values.append(value.item())
        x = (x + 0.5 * g).detach().requires_grad_(True)
    assert result.curve == pytest.approx(values, abs=1e-4)
    assert result.end == pytest.approx(lm.model(x)[0, 0].item(), abs=1e-4)


def test_class_models_are_cached(lm, gallery_folder):
    s = cm.SimonyanSettings(steps=2, size=32)
    first = cm.class_model(lm, "Blue", "simonyan", s)  # a name, case aside
    again = cm.class_model(lm, 2, "simonyan", s, cancel=lambda: True)
    assert not first.cached and again.cached and np.array_equal(first.image, again.image)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_unknown_layer_channel_class_are_one_clear_message(lm, lang):
    with i18n.use(lang):
        with pytest.raises(network.VisualizeError) as layer:
            vis.visualize(lm, "conv9_9", 0, FAST)
        with pytest.raises(network.VisualizeError) as pool:
            vis.estimate(lm, "pool1", 0, FAST)
        with pytest.raises(network.VisualizeError) as channel:
            vis.visualize(lm, "conv1_1", 64, FAST)
        with pytest.raises(network.VisualizeError) as cls:
            cm.class_model(lm, "cat")
        with pytest.raises(network.VisualizeError) as index:
            cm.class_model(lm, 6)
        with pytest.raises(network.VisualizeError) as method:
            cm.class_model(lm, 0, "deepdream")
        with pytest.raises(network.VisualizeError) as settings:
            vis.Settings(size=4)
        with pytest.raises(network.VisualizeError) as diversity:
            vis.Settings(diversity=1.0)
        messages = [str(e.value) for e in (layer, pool, channel, cls, index, method, settings, diversity)]
    for m in messages:
        assert "\n" not in m and "Traceback" not in m
    if lang == "en":
        assert "conv9_9" in messages[0] and "conv5_2" in messages[0] and "pool1" in messages[1]
        assert "0…63" in messages[2] and "'cat'" in messages[3] and "0…5" in messages[3] and "'6'" in messages[4]
        assert "deepdream" in messages[5] and "16" in messages[6] and "2 images" in messages[7]
    else:
        for m in messages:
            assert re.search("[\u4e00-\u9fff]", m), m
        assert "conv1_1、conv2_1" in messages[0] and "0～5" in messages[3]  # the reader's list and range


# --- conv1_1's filters and the gallery ----------------------------------------------------------

def test_first_filters_enlarged(lm):
    pictures = filters.filter_pictures(lm, [EDGE, RED], scale=4)
    assert [p.shape for p in pictures] == [(12, 12, 3)] * 2 and pictures[0].dtype == np.uint8
    edge = pictures[0]
    # exact: weights −1, 0, 1 over the largest |weight| 1 make 0, 0.5, 1 before the ×255
    assert np.all(edge[:, :4] == 0) and np.all(edge[:, 4:8] == 128) and np.all(edge[:, 8:] == 255)
    red = pictures[1][4:8, 4:8].reshape(-1, 3)
    assert np.all(red == [255, 0, 128])  # +1 on red, −1 on green, 0 on blue, at the centre
    alone = filters.filter_pictures(lm, [6], scale=1, joint=False)[0]  # channel 6: zero weights stay grey
    assert np.all(alone == 128)
    with pytest.raises(network.VisualizeError):
        filters.filter_pictures(lm, [64])


def test_a_layer_gallery_written_in_batches_and_read_back(lm, gallery_folder):
    settings = vis.Settings(steps=3, size=32, upsample=None)
    assert layer_gallery.read(lm, "conv1_1", range(3), settings) == [None] * 3
    batches = []
    made = layer_gallery.compute(lm, "conv1_1", range(5), settings, batch=2, done=batches.append)
    assert [len(b) for b in batches] == [2, 2, 1] and [v.channel for v in made] == list(range(5))
    read = layer_gallery.read(lm, "conv1_1", range(6), settings)
    assert all(v.cached for v in read[:5]) and read[5] is None
    where = gallery.folder("A", lm.digest, "conv1_1", settings.resolved(lm).record())
    index = gallery.read_index(where)
    assert index["layer"] == "conv1_1" and index["entries"] == [f"c{c:04d}-s0" for c in range(5)]
    assert [w for w, _ in gallery.indexes("A", lm.digest)] == [where]
    sizes = []
    layer_gallery.compute(lm, "conv1_1", [7, 8], settings, seed=1, done=lambda b: sizes.append(len(b)))
    assert sizes == [2]  # one batch (BATCH = 8)
    found = layer_gallery.prepared(lm, "conv1_1")
    assert [(p.layer, p.seed, p.channels) for p in found] == [("conv1_1", 0, (0, 1, 2, 3, 4)), ("conv1_1", 1, (7, 8))]
    assert found[0].settings == settings.resolved(lm) and layer_gallery.prepared(lm, "conv2_1") == []
    picture = layer_gallery.grid([v.image if v else None for v in read], columns=4, gap=2)
    assert picture.shape == (2 * 32 + 2, 4 * 32 + 3 * 2, 3)
    assert np.array_equal(picture[:32, 34:66], read[1].image) and np.all(picture[34:, 34:66] == 255)



def test_in_a_bn_configuration_the_batch_norms_output_is_maximised():
    """The map the ReLU reads, as dataset examples score it and Feature maps shows it: after the batch norm,
    whose γ may flip a channel. Checked against torchvision's vgg11_bn hooked at that batch norm."""
    from helpers import batch_norm_not_identity, torchvision_twin

    lm = LoadedModel(build_model("vgg11_bn", seed=0), configs.resolve("vgg11_bn"), "random",
                     [str(i) for i in range(1000)], "imagenet", torch.device("cpu"))
    batch_norm_not_identity(lm.model, seed=1)
    reference = torchvision_twin("vgg11_bn", lm.model).eval()
    x = torch.rand(2, 3, 32, 32)
    k = network.check_layer(lm, "conv2_1")
    seen = []
    handle = reference.features[k + 1].register_forward_hook(lambda m, i, o: seen.append(o.clone()))  # its ReLU is in place
    with torch.no_grad():
        reference.features(x)
        ours = network.truncated(lm, "conv2_1")(x)
    handle.remove()
    assert type(reference.features[k + 1]).__name__ == "BatchNorm2d"
    torch.testing.assert_close(ours, seen[0], rtol=1e-5, atol=1e-5)  # float rounding of the same convolutions
