package dev.continuum.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector species every kernel uses, all derived from one float width, the preferred one or the one
 * {@link VectorSupport#BITS_PROPERTY} forces, so that one float vector's worth of lanes can be loaded as shorts
 * (F16/BF16 and block scales) and, at 8 or 16 lanes, as bytes (quantized formats), and widened lane for lane.
 */
final class VectorShapes {
    /** The CPU's preferred vector width in bits, which a forced width may not exceed. */
    static final int PREFERRED_BITS = FloatVector.SPECIES_PREFERRED.vectorBitSize();

    static final VectorSpecies<Float> FLOAT = VectorSupport.Forced.BITS == 0 ? FloatVector.SPECIES_PREFERRED
            : VectorSpecies.of(float.class, VectorShape.forBitSize(VectorSupport.Forced.BITS));
    static final int LANES = FLOAT.length();

    /**
     * The kernels need a whole number of float vectors per half 32-element block (Q4_0 splits blocks in halves):
     * 4, 8 or 16 float lanes (128-bit NEON or SSE, AVX2, AVX-512).
     */
    static final boolean USABLE = LANES == 4 || LANES == 8 || LANES == 16;

    static final VectorSpecies<Integer> INT = USABLE ? VectorSpecies.of(int.class, FLOAT.vectorShape()) : null;
    static final VectorSpecies<Short> SHORT = USABLE
            ? VectorSpecies.of(short.class, VectorShape.forBitSize(LANES * Short.SIZE)) : null;
    /**
     * Bytes for one float lane each: 64 or 128 bits at 8 or 16 lanes. At 4 lanes that would be 32 bits, a shape
     * the Vector API lacks, so there the byte kernels load {@link #BYTE_PAIR} instead; null then.
     */
    static final VectorSpecies<Byte> BYTE = USABLE && LANES >= 8
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(LANES * Byte.SIZE)) : null;

    /** Shorts and bytes for twice the float lane count: the 16-bit integer kernel's full-width vectors. */
    static final VectorSpecies<Short> SHORT_WIDE = USABLE
            ? VectorSpecies.of(short.class, VectorShape.forBitSize(2 * LANES * Short.SIZE)) : null;
    static final VectorSpecies<Byte> BYTE_WIDE = USABLE
            ? VectorSpecies.of(byte.class, VectorShape.forBitSize(2 * LANES * Byte.SIZE)) : null;

    /**
     * At 4 lanes only: the bytes of two float vectors' worth of rows, one 64-bit load (32-bit byte vectors do not
     * exist). The first vector widens from its lanes 0-3 ({@code convertShape(B2F, FLOAT, 0)}), the second from
     * lanes 4-7 after {@link #UPPER_HALF} has moved them down:
     * <pre>
     *   loaded:                 [b0 b1 b2 b3 | b4 b5 b6 b7]   B2F, part 0: [b0 b1 b2 b3] as floats
     *   rearrange(UPPER_HALF):  [b4 b5 b6 b7 | b4 b5 b6 b7]   B2F, part 0: [b4 b5 b6 b7] as floats
     * </pre>
     * A single-source rearrange by a constant shuffle is one instruction (NEON {@code tbl}, SSSE3 {@code pshufb});
     * {@code convertShape(B2F, FLOAT, 1)} would slice instead, adding a compare and a blend per vector.
     */
    static final VectorSpecies<Byte> BYTE_PAIR = LANES == 4 ? ByteVector.SPECIES_64 : null;
    static final VectorShuffle<Byte> UPPER_HALF = LANES == 4
            ? VectorShuffle.fromOp(ByteVector.SPECIES_64, i -> 4 + (i & 3)) : null;

    private VectorShapes() {
    }
}
