package dev.continuum.tensor;

/**
 * Decides once whether the kernels take their Vector API path or their scalar fallback, and at which width: the
 * one gate for every use of the Vector API, the matmul kernels here and attention, softmax and SiLU in
 * {@code dev.continuum.model}, so that one JVM never mixes widths or runs half its kernels vectorized.
 *
 * <p>This class must not mention any {@code jdk.incubator.vector} type itself: when the JVM was started without
 * {@code --add-modules jdk.incubator.vector} those classes do not exist, and only the code that actually touches
 * them ({@link VectorShapes} and each kernel's nested {@code Vectorized} class) may fail to link. Code outside this
 * package asks {@link #enabled()} and {@link #floatLanes()} and builds its own species of that many float lanes,
 * so no species crosses a package boundary.
 *
 * <p>Two system properties, each read once when this class initializes:
 * <ul>
 *   <li>{@value #DISABLE_PROPERTY}{@code =true} forces the scalar kernels, e.g. to compare speed or rule out a
 *   vector bug;</li>
 *   <li>{@value #BITS_PROPERTY}{@code =128|256|512} makes the vector kernels run at that width instead of the
 *   CPU's preferred one (4, 8 or 16 float lanes), which must be at least as wide: it lets an AVX-512 machine run,
 *   and CI test, the 128-bit code AArch64 NEON takes. Any other value, or a width above the preferred one, fails
 *   this class's initialization with a message rather than quietly running another width. Without the Vector
 *   API module the property has nothing to narrow, and the scalar kernels run.</li>
 * </ul>
 */
public final class VectorSupport {
    /** System property that forces the scalar kernels, e.g. to compare speed or rule out a vector bug. */
    public static final String DISABLE_PROPERTY = "continuum.vector.disable";

    /** System property that forces the vector width in bits (128, 256 or 512, at most the preferred width). */
    public static final String BITS_PROPERTY = "continuum.vector.bits";

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
        // Read first and outside the try below: a malformed width must fail loudly, not read as "no Vector API".
        int forced = Forced.BITS;
        if (Boolean.getBoolean(DISABLE_PROPERTY)) {
            return 0;
        }
        int preferredBits;
        int lanes;
        try {
            preferredBits = VectorShapes.PREFERRED_BITS;
            lanes = VectorShapes.USABLE ? VectorShapes.LANES : 0;
        } catch (LinkageError e) {
            // Module not added to the boot layer (NoClassDefFoundError) or species setup failed.
            return 0;
        }
        if (forced > preferredBits) {
            throw new IllegalStateException(BITS_PROPERTY + "=" + forced + " is wider than this machine's "
                    + preferredBits + "-bit vectors; use at most " + preferredBits);
        }
        return lanes;
    }

    /**
     * The forced width, parsed in a class of its own so that {@link VectorShapes} can read it while this class is
     * still initializing (a static field of this class read from there would still be 0).
     */
    static final class Forced {
        /** The requested vector width in bits, or 0 for the preferred width. */
        static final int BITS = parse(System.getProperty(BITS_PROPERTY));

        private Forced() {
        }

        static int parse(String value) {
            if (value == null || value.isBlank()) {
                return 0;
            }
            return switch (value.strip()) {
                case "128" -> 128;
                case "256" -> 256;
                case "512" -> 512;
                default -> throw new IllegalArgumentException(BITS_PROPERTY + " must be 128, 256 or 512, got '"
                        + value + "'");
            };
        }
    }
}
