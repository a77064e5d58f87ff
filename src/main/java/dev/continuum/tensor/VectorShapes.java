package dev.continuum.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector species every kernel uses, all derived from the preferred float width so that one float vector's
 * worth of lanes can be loaded as bytes (quantized formats) or shorts (F16/BF16) and widened lane for lane.
 */
final class VectorShapes {
    static final VectorSpecies<Float> FLOAT = FloatVector.SPECIES_PREFERRED;
    static final int LANES = FLOAT.length();

    /**
     * The kernels need a whole number of float vectors per half 32-element block (Q4_0 splits blocks in halves),
     * and a byte species as wide as the float lane count: that means 8 or 16 float lanes (AVX2 or AVX-512).
     */
    static final boolean USABLE = LANES == 8 || LANES == 16;

    static final VectorSpecies<Integer> INT = USABLE ? IntVector.SPECIES_PREFERRED : null;
    static final VectorSpecies<Short> SHORT = USABLE
            ? VectorSpecies.of(short.class, VectorShape.forBitSize(LANES * Short.SIZE)) : null;
    static final VectorSpecies<Byte> BYTE = USABLE
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(LANES * Byte.SIZE)) : null;

    /** Shorts and bytes for twice the float lane count: the 16-bit integer kernel's full-width vectors. */
    static final VectorSpecies<Short> SHORT_WIDE = USABLE
            ? VectorSpecies.of(short.class, VectorShape.forBitSize(2 * LANES * Short.SIZE)) : null;
    static final VectorSpecies<Byte> BYTE_WIDE = USABLE
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(2 * LANES * Byte.SIZE)) : null;

    // Lane-swap shuffles for a fixed pairwise fold; XOR_8 exists only for 16 lanes.
    private static final VectorShuffle<Float> XOR_8 = LANES == 16 ? xor(8) : null;
    private static final VectorShuffle<Float> XOR_4 = USABLE ? xor(4) : null;
    private static final VectorShuffle<Float> XOR_2 = USABLE ? xor(2) : null;
    private static final VectorShuffle<Float> XOR_1 = USABLE ? xor(1) : null;

    private VectorShapes() {
    }

    private static VectorShuffle<Float> xor(int distance) {
        return VectorShuffle.fromOp(FLOAT, i -> i ^ distance);
    }

    /**
     * Sums the lanes in a fixed pairwise order. {@code reduceLanes(ADD)} is deliberately not used: its order is
     * unspecified and may differ between the interpreter's Java fallback and C2's intrinsic, which would make a
     * row's result depend on whether its kernel had been JIT-compiled yet.
     */
    static float sumLanes(FloatVector v) {
        if (LANES == 16) {
            v = v.add(v.rearrange(XOR_8));
        }
        v = v.add(v.rearrange(XOR_4));
        v = v.add(v.rearrange(XOR_2));
        v = v.add(v.rearrange(XOR_1));
        return v.lane(0);
    }
}
