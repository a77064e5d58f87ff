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
    /**
     * Set once the library is in the process: a JVM-wide mark, since a Quarkus test loads this class again in the
     * application's class loader, and the JVM refuses to load one native library from two class loaders. (Not
     * under {@code continuum.}: Quarkus refuses system properties there that map to no configuration.)
     */
    private static final String LOADED = "test.emulated-cuda.loaded";

    private EmulatedCudaDevice() {
    }

    /** Builds (if needed) and loads the emulated driver; skips or fails (under CI) as {@link EmulatedCuda} does. */
    public static void install() {
        synchronized (System.class) {
            if (System.getProperty(LOADED) == null) {
                Path dir = EmulatedCuda.library();
                System.load(dir.resolve("libcuda.so.1").toAbsolutePath().toString());
                System.setProperty(LOADED, dir.toString());
            }
        }
    }
}
