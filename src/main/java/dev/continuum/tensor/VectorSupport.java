package dev.continuum.tensor;

/**
 * Decides once whether the kernels take their Vector API path or their scalar fallback: the one gate for every use
 * of the Vector API, the matmul kernels here and attention, softmax and SiLU in {@code dev.continuum.model}, so
 * that one JVM never runs half its kernels vectorized.
 *
 * <p>This class must not mention any {@code jdk.incubator.vector} type itself: when the JVM was started without
 * {@code --add-modules jdk.incubator.vector} those classes do not exist, and only the code that actually touches
 * them ({@link VectorShapes} and each kernel's nested {@code Vectorized} class) may fail to link. Code outside this
 * package asks {@link #enabled()} and {@link #floatLanes()} and builds its own species of that many float lanes,
 * so no species crosses a package boundary.
 */
public final class VectorSupport {
    /** System property that forces the scalar kernels, e.g. to compare speed or rule out a vector bug. */
    public static final String DISABLE_PROPERTY = "continuum.vector.disable";

    /** Float lanes of the vector kernels, or 0 when they are off; fixed for the life of the JVM. */
    static final int LANES = detect();

    /** True when the vector kernels run; fixed for the life of the JVM so results never change mid-run. */
    static final boolean ENABLED = LANES > 0;

    private VectorSupport() {
    }

    /** Whether the Vector API kernels run in this JVM (the same answer for every kernel, for its whole life). */
    public static boolean enabled() {
        return ENABLED;
    }

    /** Float lanes of the vector kernels (4, 8 or 16), or 0 when the scalar kernels run. */
    public static int floatLanes() {
        return LANES;
    }

    /** Human-readable summary for startup logs. */
    public static String describe() {
        return ENABLED ? "Vector API, " + (LANES * Float.SIZE) + "-bit floats" : "scalar kernels";
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
}
