package dev.continuum.tensor;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The block formats' level decoders with the Vector API: each writes exactly the levels of
 * {@link BlockFormat#levels} (the scalar reference; the tests compare them byte for byte) into a scratch array, 16
 * bytes at a time. They work on 128-bit byte vectors at every width the gate allows (the narrowest it has, so
 * never wider than {@link VectorSupport#BITS_PROPERTY} asks): the formats' groups of 16 and 32 bytes fit them
 * without a case per width, and the decode is spread over the tokens that share it.
 */
final class BlockLevels {
    private BlockLevels() {
    }

    static final class Vectorized {
        private static final VectorSpecies<Byte> B16 = ByteVector.SPECIES_128;
        private static final ByteVector KVALUES = ByteVector.fromArray(B16, BlockFormat.KVALUES, 0);
        /** Lane j: bit j % 8 of a byte, for Q5_0/Q5_1's high bits. */
        private static final ByteVector BIT = ByteVector.fromArray(B16,
                new byte[]{1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128}, 0);
        /** Lane j takes byte j / 8 (elements 0-15's high bits), or byte 2 + j / 8 (elements 16-31's). */
        private static final VectorShuffle<Byte> QH_LOW = VectorShuffle.fromOp(B16, j -> j / 8);
        private static final VectorShuffle<Byte> QH_HIGH = VectorShuffle.fromOp(B16, j -> 2 + j / 8);

        private Vectorized() {
        }

        /** {@link BlockFormat#levels} of {@code f}'s block at byte {@code b}. */
        static void decode(BlockFormat f, MemorySegment m, long b, byte[] levels) {
            switch (f) {
                case Q4_1 -> nibbles(m, b + 4, levels, (byte) 0);
                case Q5_0 -> fiveBits(m, b + 6, b + 2, levels, (byte) -16);
                case Q5_1 -> fiveBits(m, b + 8, b + 4, levels, (byte) 0);
                case IQ4_NL -> iq4nl(m, b + 2, levels);
                case Q2_K -> q2K(m, b, levels);
                case Q3_K -> q3K(m, b, levels);
                case Q4_K -> q4K(m, b, levels);
                case Q5_K -> q5K(m, b, levels);
                case Q6_K -> q6K(m, b, levels);
                case Q8_K -> MemorySegment.copy(m, ValueLayout.JAVA_BYTE, b + 4, levels, 0, 256);
            }
        }

        private static ByteVector load(MemorySegment m, long at) {
            return ByteVector.fromMemorySegment(B16, m, at, ByteOrder.LITTLE_ENDIAN);
        }

        private static void nibbles(MemorySegment m, long qs, byte[] levels, byte offset) {
            ByteVector v = load(m, qs);
            v.and((byte) 0x0f).add(offset).intoArray(levels, 0);
            v.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0f).add(offset).intoArray(levels, 16);
        }

        /** Nibbles plus bit j of the 32-bit {@code qh} as bit 4 of element j, then {@code offset}. */
        private static void fiveBits(MemorySegment m, long qs, long qhAt, byte[] levels, byte offset) {
            long qh = m.get(BlockFormat.INT_LE, qhAt) & 0xffffffffL;
            ByteVector bytes = LongVector.broadcast(LongVector.SPECIES_128, qh).reinterpretAsBytes();
            VectorMask<Byte> low = bytes.rearrange(QH_LOW).and(BIT).compare(VectorOperators.NE, (byte) 0);
            VectorMask<Byte> high = bytes.rearrange(QH_HIGH).and(BIT).compare(VectorOperators.NE, (byte) 0);
            ByteVector v = load(m, qs);
            v.and((byte) 0x0f).lanewise(VectorOperators.OR, (byte) 0x10, low).add(offset).intoArray(levels, 0);
            v.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0f).lanewise(VectorOperators.OR, (byte) 0x10, high)
                    .add(offset).intoArray(levels, 16);
        }

        private static void iq4nl(MemorySegment m, long qs, byte[] levels) {
            ByteVector v = load(m, qs);
            v.and((byte) 0x0f).selectFrom(KVALUES).intoArray(levels, 0);
            v.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0f).selectFrom(KVALUES).intoArray(levels, 16);
        }

        /** Tile k: bits 2*(k%4) of qs[32*(k/4) + l]. */
        private static void q2K(MemorySegment m, long b, byte[] levels) {
            for (int n = 0; n < 2; n++) {
                ByteVector q0 = load(m, b + 16 + 32L * n);
                ByteVector q1 = load(m, b + 16 + 32L * n + 16);
                for (int p = 0; p < 4; p++) {
                    int o = 128 * n + 32 * p;
                    q0.lanewise(VectorOperators.LSHR, 2 * p).and((byte) 3).intoArray(levels, o);
                    q1.lanewise(VectorOperators.LSHR, 2 * p).and((byte) 3).intoArray(levels, o + 16);
                }
            }
        }

        /** As Q2_K, minus 4 where bit k of hmask[l] is clear: {@code q - 4 + 4 * bit}. */
        private static void q3K(MemorySegment m, long b, byte[] levels) {
            ByteVector h0 = load(m, b);
            ByteVector h1 = load(m, b + 16);
            for (int n = 0; n < 2; n++) {
                ByteVector q0 = load(m, b + 32 + 32L * n);
                ByteVector q1 = load(m, b + 32 + 32L * n + 16);
                for (int p = 0; p < 4; p++) {
                    int k = 4 * n + p;
                    int o = 32 * k;
                    q0.lanewise(VectorOperators.LSHR, 2 * p).and((byte) 3).sub((byte) 4)
                            .add(h0.lanewise(VectorOperators.LSHR, k).and((byte) 1).lanewise(VectorOperators.LSHL, 2))
                            .intoArray(levels, o);
                    q1.lanewise(VectorOperators.LSHR, 2 * p).and((byte) 3).sub((byte) 4)
                            .add(h1.lanewise(VectorOperators.LSHR, k).and((byte) 1).lanewise(VectorOperators.LSHL, 2))
                            .intoArray(levels, o + 16);
                }
            }
        }

        /** Chunk c of 32 bytes: tile 2c their low nibbles, tile 2c + 1 their high nibbles. */
        private static void q4K(MemorySegment m, long b, byte[] levels) {
            for (int c = 0; c < 4; c++) {
                ByteVector v0 = load(m, b + 16 + 32L * c);
                ByteVector v1 = load(m, b + 32 + 32L * c);
                int o = 64 * c;
                v0.and((byte) 0x0f).intoArray(levels, o);
                v1.and((byte) 0x0f).intoArray(levels, o + 16);
                v0.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0f).intoArray(levels, o + 32);
                v1.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0f).intoArray(levels, o + 48);
            }
        }

        /** Q4_K's nibbles with bit k of qh[l] as bit 4 of tile k's element l. */
        private static void q5K(MemorySegment m, long b, byte[] levels) {
            ByteVector h0 = load(m, b + 16);
            ByteVector h1 = load(m, b + 32);
            for (int c = 0; c < 4; c++) {
                ByteVector v0 = load(m, b + 48 + 32L * c);
                ByteVector v1 = load(m, b + 64 + 32L * c);
                int k = 2 * c;
                int o = 64 * c;
                v0.and((byte) 0x0f).or(h0.lanewise(VectorOperators.LSHR, k).and((byte) 1)
                        .lanewise(VectorOperators.LSHL, 4)).intoArray(levels, o);
                v1.and((byte) 0x0f).or(h1.lanewise(VectorOperators.LSHR, k).and((byte) 1)
                        .lanewise(VectorOperators.LSHL, 4)).intoArray(levels, o + 16);
                v0.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0f).or(h0.lanewise(VectorOperators.LSHR, k + 1)
                        .and((byte) 1).lanewise(VectorOperators.LSHL, 4)).intoArray(levels, o + 32);
                v1.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0f).or(h1.lanewise(VectorOperators.LSHR, k + 1)
                        .and((byte) 1).lanewise(VectorOperators.LSHL, 4)).intoArray(levels, o + 48);
            }
        }

        /** Half n (128 elements): ql[64n ..] nibbles, qh[32n ..] two bits each, minus 32 (see {@link BlockFormat}). */
        private static void q6K(MemorySegment m, long b, byte[] levels) {
            for (int n = 0; n < 2; n++) {
                long ql = b + 64L * n;
                long qh = b + 128 + 32L * n;
                for (int half = 0; half < 2; half++) {
                    int l = 16 * half;
                    ByteVector a = load(m, ql + l);
                    ByteVector c = load(m, ql + 32 + l);
                    ByteVector h = load(m, qh + l);
                    int o = 128 * n + l;
                    a.and((byte) 0x0f).or(h.and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32)
                            .intoArray(levels, o);
                    c.and((byte) 0x0f).or(h.lanewise(VectorOperators.LSHR, 2).and((byte) 3)
                            .lanewise(VectorOperators.LSHL, 4)).sub((byte) 32).intoArray(levels, o + 32);
                    a.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0f).or(h.lanewise(VectorOperators.LSHR, 4)
                            .and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32).intoArray(levels, o + 64);
                    c.lanewise(VectorOperators.LSHR, 4).and((byte) 0x0f).or(h.lanewise(VectorOperators.LSHR, 6)
                            .and((byte) 3).lanewise(VectorOperators.LSHL, 4)).sub((byte) 32).intoArray(levels, o + 96);
                }
            }
        }
    }
}
