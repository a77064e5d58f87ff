package dev.continuum.tensor;

/**
 * Decides once whether the tensor kernels take their Vector API path or their scalar fallback.
 *
 * <p>This class must not mention any {@code jdk.incubator.vector} type itself: when the JVM was started without
 * {@code --add-modules jdk.incubator.vector} those classes do not exist, and only the code that actually touches
 * them ({@link VectorShapes} and each format's nested {@code Vectorized} kernel class) may fail to link.
 */
final class VectorSupport {
    /** System property that forces the scalar kernels, e.g. to compare speed or rule out a vector bug. */
    static final String DISABLE_PROPERTY = "continuum.vector.disable";

    /** Float lanes of the vector kernels, or 0 when they are off; fixed for the life of the JVM. */
    static final int LANES = detect();

    /** True when the vector kernels run; fixed for the life of the JVM so results never change mid-run. */
    static final boolean ENABLED = LANES > 0;

    private VectorSupport() {
    }

    private static int detect() {
        if (Boolean.getBoolean(DISABLE_PROPERTY)) {
            return 0;
        }
        try {
            return VectorShapes.USABLE ? VectorShapes.LANES : 0;
        } catch (LinkageError e) {
            // Module not added to the boot layer (NoClassDefFoundError) or species setup failed.
            return 0;
        }
    }

    /** Human-readable summary for startup logs. */
    static String describe() {
        return ENABLED ? "Vector API, " + (LANES * 32) + "-bit floats" : "scalar kernels";
    }
}
