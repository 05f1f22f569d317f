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
