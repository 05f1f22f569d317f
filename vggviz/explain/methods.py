"""The attribution methods by name: torch-free, so the command line can list them without importing torch."""

from ..i18n import N_

METHODS = {
    "saliency": "Saliency",
    "integrated_gradients": "Integrated gradients",
    "smoothgrad": "SmoothGrad (noise tunnel)",
    "input_x_gradient": "Input × gradient",
    "guided_backprop": "Guided backprop",
    "deconvolution": "Deconvolution",
    "deeplift": "DeepLift",
    "occlusion": "Occlusion",
    "gradcam": "Grad-CAM",
    "guided_gradcam": "Guided Grad-CAM",
}
LAYER_METHODS = {"gradcam": "LayerGradCam", "activation": "LayerActivation", "conductance": "LayerConductance"}
NEEDS_LAYER = ("gradcam", "guided_gradcam")
BASELINES = ("black", "blurred", "noise")

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
