package dev.continuum.runner;

/**
 * What computes the model, for {@code /v1/models}, the startup log and the metrics' {@code backend} label.
 *
 * @param name   the backend: {@code cpu} or {@code cuda}
 * @param device the device in words, e.g. {@code "cuda:0 NVIDIA H200 (compute 9.0, 132 SMs), driver 13.0"}
 */
public record RunnerBackend(String name, String device) {
    public RunnerBackend {
        if (name == null || name.isBlank() || device == null) {
            throw new IllegalArgumentException("a runner backend needs a name and a device");
        }
    }
}
