"""The attribution methods by name: torch-free, so the command line can list them without importing torch."""

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
