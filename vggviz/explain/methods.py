"""The attribution methods by name, and the errors a user can make choosing them: torch-free, so the
command line can list them without importing torch. Names are marked for the catalogue and translated
where they are shown (``_(METHODS[m])``); the keys are identifiers and stay as they are."""

from ..i18n import N_, TranslatableError

METHODS = {
    "saliency": N_("Saliency"),
    "integrated_gradients": N_("Integrated gradients"),
    "smoothgrad": N_("SmoothGrad (noise tunnel)"),
    "input_x_gradient": N_("Input × gradient"),
    "guided_backprop": N_("Guided backprop"),
    "deconvolution": N_("Deconvolution"),
    "deeplift": N_("DeepLift"),
    "occlusion": N_("Occlusion"),
    "gradcam": N_("Grad-CAM"),
    "guided_gradcam": N_("Guided Grad-CAM"),
}
LAYER_METHODS = {"gradcam": N_("LayerGradCam"), "activation": N_("LayerActivation"),
                 "conductance": N_("LayerConductance")}
NEEDS_LAYER = ("gradcam", "guided_gradcam")
BASELINES = ("black", "blurred", "noise")
BASELINE_LABELS = {"black": N_("black"), "blurred": N_("blurred"), "noise": N_("noise")}


class AttributionError(TranslatableError, ValueError):
    """Attribution settings that cannot be used."""

    MESSAGES = {
        "unknown_method": N_("unknown method {method!r}; choose one of {choices}"),
        "unknown_layer_method": N_("unknown layer method {method!r}; choose one of {choices}"),
        "unknown_baseline": N_("unknown baseline {baseline!r}; choose one of {choices}"),
        "not_positive": N_("steps, samples, window, stride and batch must be positive"),
        "unknown_layer": N_("no conv layer {layer!r}; choose one of {choices}"),
    }

# pytorch-grad-cam's CAM family (vggviz/explain/cams.py): maps in [0, 1] at any conv layer, default the last.
CAM_METHODS = {
    "gradcam_plus_plus": N_("Grad-CAM++"),
    "xgradcam": N_("XGrad-CAM"),
    "layercam": N_("LayerCAM"),
    "hirescam": N_("HiResCAM"),
    "eigencam": N_("Eigen-CAM"),
    "scorecam": N_("Score-CAM"),
    "ablationcam": N_("Ablation-CAM"),
}
# One forward per channel of the layer (512 at conv5_3): batched, estimated before starting, cancellable.
PER_CHANNEL = ("scorecam", "ablationcam")
# eigen_smooth replaces the channel sum by the first principal component. Eigen-CAM already is that
# projection, and HiResCAM's faithfulness guarantee does not hold with it (grad-cam warns on stdout).
EIGEN_SMOOTH = ("gradcam_plus_plus", "xgradcam", "layercam", "scorecam", "ablationcam")
# The per-block strip: methods that read every layer from one forward and backward, LayerCAM first (it keeps
# the fine detail of early blocks, Jiang et al. 2021). Not Eigen-CAM: its SVD cannot run at early blocks.
STRIP_CAMS = ("layercam", "gradcam_plus_plus", "xgradcam", "hirescam")
# Every attribution method by name: captum's above, then grad-cam's.
ALL_METHODS = {**METHODS, **CAM_METHODS}
# Deletion and insertion (vggviz/explain/faithfulness.py): the fraction of pixels changes in this many steps.
FAITHFULNESS_STEPS = 20
