package dev.continuum.api;

import dev.continuum.SharedTestData;
import dev.continuum.cuda.EmulatedCudaDevice;
import io.quarkus.test.junit.QuarkusTestProfile;

import java.util.Map;

/** A server asked for the CUDA backend, on stories260K (the test JVM holds the emulated device). */
public class EmulatedCudaProfile implements QuarkusTestProfile {
    @Override
    public Map<String, String> getConfigOverrides() {
        // Read before the application starts, so the device is in the JVM before the model host probes for it.
        EmulatedCudaDevice.install();
        return Map.of("continuum.backend", "cuda",
                "continuum.model", SharedTestData.require("models/stories260K.gguf").toString(),
                "continuum.warmup-tokens", "4");
    }
}
