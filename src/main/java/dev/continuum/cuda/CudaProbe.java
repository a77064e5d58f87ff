package dev.continuum.cuda;

import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/**
 * Asks, once per JVM, whether the CUDA backend can run here, and remembers the answer: the driver can be probed only
 * once. Without {@code libcuda.so.1} the first touch of JCuda's driver class fails with {@link UnsatisfiedLinkError}
 * (its static initializer loads the JNI library, which needs the driver) and every later touch with
 * {@link NoClassDefFoundError}; both are {@link LinkageError}s, caught here and turned into a reason. A driver
 * without a device answers {@code cuInit} with {@code CUDA_ERROR_NO_DEVICE}; one older than CUDA 13 cannot load the
 * kernels' PTX.
 */
public final class CudaProbe {
    private static CudaAvailability verdict;

    private CudaProbe() {
    }

    /** The cached verdict, probing on the first call. */
    public static synchronized CudaAvailability availability() {
        if (verdict == null) {
            verdict = probe();
        }
        return verdict;
    }

    private static CudaAvailability probe() {
        int init;
        try {
            JCudaDriver.setExceptionsEnabled(false);
            init = JCudaDriver.cuInit(0);
        } catch (LinkageError e) {
            return CudaAvailability.unavailable("no CUDA driver: " + firstLine(e), 0, 0);
        }
        int[] version = new int[1];
        JCudaDriver.cuDriverGetVersion(version);
        if (init != 0) {
            return CudaAvailability.unavailable("the CUDA driver answered cuInit with " + CUresult.stringFor(init),
                    version[0], 0);
        }
        int[] count = new int[1];
        int result = JCudaDriver.cuDeviceGetCount(count);
        if (result != 0 || count[0] == 0) {
            return CudaAvailability.unavailable("the CUDA driver sees no device"
                    + (result != 0 ? " (" + CUresult.stringFor(result) + ")" : ""), version[0], 0);
        }
        if (version[0] < CudaDriver.REQUIRED_DRIVER_VERSION) {
            return CudaAvailability.unavailable("the CUDA driver supports CUDA " + version[0] / 1000 + "."
                    + version[0] % 1000 / 10 + "; the kernels need " + CudaDriver.REQUIRED_DRIVER_VERSION / 1000
                    + ".0 (driver R580 or newer)", version[0], count[0]);
        }
        return new CudaAvailability(true, "", version[0], count[0]);
    }

    /**
     * The first line of a linkage error, with its cause when JCuda nests the real one (the missing
     * {@code libcuda.so.1}) inside its message.
     */
    private static String firstLine(Throwable e) {
        String m = String.valueOf(e.getMessage());
        int cut = m.indexOf('\n');
        String first = cut < 0 ? m : m.substring(0, cut);
        int lib = m.indexOf("libcuda.so");
        if (lib >= 0 && !first.contains("libcuda.so")) {
            int end = m.indexOf('\n', lib);
            first += " (" + m.substring(lib, end < 0 ? m.length() : end).trim() + ")";
        }
        return e.getClass().getSimpleName() + ": " + first;
    }
}
