package dev.continuum.cuda;

import dev.continuum.cuda.emulator.EmulatedCuda;

import java.nio.file.Path;

/**
 * Puts our emulated CUDA device into this JVM: loads the stand-in {@code libcuda.so.1} (built from the kernels'
 * source for the CPU, see {@code src/test/cuda/emulator}) before anything touches JCuda, so that when JCuda's JNI
 * library is loaded its dependency on {@code libcuda.so.1} binds to the one already in the process (the dynamic
 * loader matches it by its soname). The tests that use it run in the {@code emulated-cuda} surefire execution,
 * one JVM per class, so the rest of the suite never sees a device.
 */
public final class EmulatedCudaDevice {
    private static boolean installed;

    private EmulatedCudaDevice() {
    }

    /** Builds (if needed) and loads the emulated driver; skips or fails (under CI) as {@link EmulatedCuda} does. */
    public static synchronized void install() {
        if (!installed) {
            Path dir = EmulatedCuda.library();
            System.load(dir.resolve("libcuda.so.1").toAbsolutePath().toString());
            installed = true;
        }
    }
}
