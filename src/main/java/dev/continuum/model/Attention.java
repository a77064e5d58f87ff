package dev.continuum.model;

import dev.continuum.tensor.VectorSupport;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * Causal grouped-query attention of KV heads' groups of query heads over one sequence's cached keys and values,
 * read straight from the paged cache's blocks. Each block's float16 keys, then values, convert to floats once for
 * a KV head's whole group; scores come a vector of positions per FMA (the cache stores a block's keys
 * transposed), then a softmax per head, then the values summed in registers. The arithmetic depends only on the
 * sequence and head, never on the rest of the batch.
 *
 * <p>The vector kernels run only where {@link VectorSupport} says the Vector API kernels run, at its width, and
 * live in {@link Vectorized} so that this class links on a JVM without {@code jdk.incubator.vector}. Their scalar
 * twins add the same products in the same order, so scores, exponentials and value sums are the same bits on
 * either path; only the softmax denominator is added in another order (see {@link ExpKernel#expShifted}), which
 * may move the outputs' last bits.
 */
final class Attention {
    /** The gate's decision and width, read once: fixed for the JVM's life, the same for every kernel. */
    private static final boolean VECTOR = VectorSupport.enabled();
    private static final int LANES = VectorSupport.floatLanes();

    private Attention() {
    }

    /**
     * Per-thread scratch: one head's part of a block as floats, and each query head's scores. The scores are sized
     * by need, not by the model's context length: a file may claim millions of positions, and a score row per
     * query head for all of them would take gigabytes before the first request. They grow (doubling, up to the
     * context length) only when a sequence gets longer than any this thread has seen, so once the longest
     * sequence's length has been met a step allocates nothing.
     */
    static final class Scratch {
        /** Positions the scores hold at first: every sequence of a small model, without growing. */
        static final int INITIAL_POSITIONS = 1024;

        /**
         * One head's part of a block as floats, and a vector's width more: the narrow heads' kernel
         * ({@link Vectorized#accumulateSpreadValues}) loads a whole vector at each position, the lanes past the
         * head masked off.
         */
        final float[] block;
        final float[] sums;
        private final int blockSize;
        private final int maxPositions;
        private final int queries;
        float[] scores;
        int stride;

        Scratch(int blockSize, int headDim, int maxPositions, int queries) {
            if (blockSize < 1 || headDim < 1 || maxPositions < 1 || queries < 1
                    || (long) blockSize * headDim > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("attention scratch for blocks of " + blockSize + " positions, head"
                        + " dimension " + headDim + ", " + maxPositions + " positions and " + queries
                        + " query heads is not possible");
            }
            this.block = new float[blockSize * headDim + LANES];
            this.sums = new float[queries];
            this.blockSize = blockSize;
            this.maxPositions = maxPositions;
            this.queries = queries;
            resize(Math.min(maxPositions, INITIAL_POSITIONS));
        }

        /** Room for the scores of {@code n} positions per query head (and the last block's unused slots). */
        void ensurePositions(int n) {
            if (n > stride - blockSize) {
                resize(Math.max(n, (int) Math.min(maxPositions, 2L * (stride - blockSize))));
            }
        }

        /** Positions the scores hold now, per query head. */
        int positions() {
            return stride - blockSize;
        }

        private void resize(int positions) {
            long size = (long) queries * ((long) positions + blockSize);
            if (positions < 1 || size > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("attention scores for " + queries + " query heads x " + positions
                        + " positions do not fit one array");
            }
            this.stride = positions + blockSize;
            this.scores = new float[(int) size];
        }
    }

    /**
     * For each query head {@code h} of KV heads {@code [firstKvHead, firstKvHead + kvHeadCount)}, {@code group}
     * query heads per KV head, query vectors at {@code q[qo + h * headDim ..]} (h counted from the first KV head's
     * first query head): {@code out[oo + h * headDim ..] = softmax(cap(q·K[f..pos] * scale)) · V[f..pos]} over the
     * sequence whose block table is {@code table}, from {@code f = max(0, pos + 1 - window)}. Taking several KV heads
     * at once reads each block's heads as one contiguous run.
     *
     * @param window  positions attended to, the token's own included ({@link Integer#MAX_VALUE}: all before it)
     * @param softcap scores {@code s} become {@code softcap * tanh(s / softcap)} before the softmax (Gemma 2's
     *                attention-logit soft-capping); 0: scores as they are
     */
    static void heads(float[] q, int qo, int group, Float16KvStore kv, int layer, int[] table, int pos,
                      int firstKvHead, int kvHeadCount, float scale, int window, float softcap, float[] out, int oo,
                      Scratch scratch) {
        int n = pos + 1;
        int blockSize = kv.blockSize();
        int headDim = kv.headDim();
        int blocks = (n + blockSize - 1) / blockSize;
        // The window's first position, and the first block holding it: blocks before it are not read at all.
        int from = window >= n ? 0 : n - window;
        int firstBlock = from / blockSize;
        int headRun = blockSize * headDim;
        int blockRun = kv.kvHeads() * headRun;
        float[] floats = scratch.block;
        scratch.ensurePositions(n);
        float[] scores = scratch.scores;
        int stride = scratch.stride;
        boolean vectorBlocks = VECTOR && blockSize % LANES == 0;

        int queries = group * kvHeadCount;
        short[] keys = kv.keys(layer);
        for (int b = firstBlock; b < blocks; b++) {
            for (int g = 0; g < kvHeadCount; g++) {
                toFloats(keys, table[b] * blockRun + (firstKvHead + g) * headRun, floats, headRun);
                for (int h = g * group; h < (g + 1) * group; h++) {
                    if (vectorBlocks) {
                        scoreBlockVector(q, qo + h * headDim, floats, headDim, blockSize, scale, scores,
                                h * stride + b * blockSize);
                    } else {
                        scoreBlockScalar(q, qo + h * headDim, floats, headDim, blockSize, scale, scores,
                                h * stride + b * blockSize);
                    }
                }
            }
        }
        float[] sums = scratch.sums;
        for (int h = 0; h < queries; h++) {
            int so = h * stride;
            if (softcap != 0f) {
                for (int t = from; t < n; t++) {
                    scores[so + t] = softcap * (float) Math.tanh(scores[so + t] / softcap);
                }
            }
            float max = Float.NEGATIVE_INFINITY;
            for (int t = from; t < n; t++) {
                max = Math.max(max, scores[so + t]);
            }
            sums[h] = ExpKernel.expShifted(scores, so + from, n - from, max);
            // Positions of the window's first block that lie before it weigh nothing in the value sums below.
            for (int t = firstBlock * blockSize; t < from; t++) {
                scores[so + t] = 0f;
            }
            for (int i = 0; i < headDim; i++) {
                out[oo + h * headDim + i] = 0f;
            }
        }

        short[] values = kv.values(layer);
        int spread = headsPerVector(headDim, group);
        for (int b = firstBlock; b < blocks; b++) {
            int first = b * blockSize;
            int count = Math.min(n - first, blockSize);
            for (int g = 0; g < kvHeadCount; g++) {
                toFloats(values, table[b] * blockRun + (firstKvHead + g) * headRun, floats, count * headDim);
                if (spread > 1) {
                    for (int h = g * group; h < (g + 1) * group; h += spread) {
                        Vectorized.accumulateSpreadValues(scores, h * stride + first, stride, count, floats, headDim,
                                spread, out, oo + h * headDim);
                    }
                    continue;
                }
                for (int h = g * group; h < (g + 1) * group; h++) {
                    accumulateValues(scores, h * stride + first, count, floats, headDim, out, oo + h * headDim);
                }
            }
        }
        for (int h = 0; h < queries; h++) {
            float inv = 1f / sums[h];
            for (int i = 0; i < headDim; i++) {
                out[oo + h * headDim + i] *= inv;
            }
        }
    }

    /**
     * How many query heads of a KV group share one vector in the value sums: a head narrower than a vector would
     * leave lanes idle (and take the scalar path, one memory round trip per element and position), so heads of
     * {@code headDim} elements fill a vector side by side when {@code headDim} divides the width and the group
     * holds a whole number of vectors of them (stories260K: 8-element heads in pairs at 16 lanes). 1: one head at
     * a time. Each lane still adds its own element's products in position order, so the bits do not change.
     */
    static int headsPerVector(int headDim, int group) {
        if (!VECTOR || headDim >= LANES || LANES % headDim != 0) {
            return 1;
        }
        int spread = LANES / headDim;
        return spread <= Vectorized.MAX_SPREAD && group % spread == 0 ? spread : 1;
    }

    /** A plain loop on purpose: C2 turns it into hardware half-to-float conversions, which the Vector API lacks. */
    private static void toFloats(short[] halves, int from, float[] out, int count) {
        for (int i = 0; i < count; i++) {
            out[i] = Float.float16ToFloat(halves[from + i]);
        }
    }

    /**
     * {@code out[0..headDim) += sum_t p[t] * v[t]} over a block's {@code count} positions ({@code v[t]} at
     * {@code values[t * headDim ..]}), positions added in order: {@code out[d] = fma(v[t][d], p[t], out[d])} for
     * {@code t = 0, 1, ..}, the same on both paths.
     */
    private static void accumulateValues(float[] p, int po, int count, float[] values, int headDim, float[] out,
                                         int oo) {
        if (VECTOR) {
            Vectorized.accumulateValues(p, po, count, values, headDim, out, oo);
            return;
        }
        accumulateValuesScalar(p, po, count, values, headDim, out, oo, 0);
    }

    /** {@link #accumulateValues} for the head's elements {@code [from, headDim)}, one element at a time. */
    static void accumulateValuesScalar(float[] p, int po, int count, float[] values, int headDim, float[] out,
                                       int oo, int from) {
        for (int t = 0; t < count; t++) {
            float pt = p[po + t];
            int v = t * headDim;
            for (int d = from; d < headDim; d++) {
                out[oo + d] = Math.fma(values[v + d], pt, out[oo + d]);
            }
        }
    }

    /** The scores of a block a vector of positions at a time: {@link Vectorized#scoreBlock}. */
    private static void scoreBlockVector(float[] q, int qo, float[] keys, int headDim, int blockSize, float scale,
                                         float[] scores, int so) {
        Vectorized.scoreBlock(q, qo, keys, headDim, blockSize, scale, scores, so);
    }

    /**
     * The same scores one position at a time, with the same partial sums: for blocks narrower than a vector, and
     * the whole path when the vector kernels are off.
     */
    static void scoreBlockScalar(float[] q, int qo, float[] keys, int headDim, int blockSize, float scale,
                                 float[] scores, int so) {
        for (int i = 0; i < blockSize; i++) {
            float a0 = 0f;
            float a1 = 0f;
            float a2 = 0f;
            float a3 = 0f;
            int d = 0;
            for (; d + 4 <= headDim; d += 4) {
                a0 = Math.fma(keys[i + d * blockSize], q[qo + d], a0);
                a1 = Math.fma(keys[i + (d + 1) * blockSize], q[qo + d + 1], a1);
                a2 = Math.fma(keys[i + (d + 2) * blockSize], q[qo + d + 2], a2);
                a3 = Math.fma(keys[i + (d + 3) * blockSize], q[qo + d + 3], a3);
            }
            for (; d < headDim; d++) {
                a0 = Math.fma(keys[i + d * blockSize], q[qo + d], a0);
            }
            scores[so + i] = ((a0 + a1) + (a2 + a3)) * scale;
        }
    }

    /**
     * The Vector API kernels, at {@link VectorSupport#floatLanes()} lanes, kept in a nested class because verifying
     * code that uses vector types loads {@code jdk.incubator.vector}: only touched when the gate is on. Only
     * scalars and arrays cross its methods' boundaries, so no vector is ever boxed.
     */
    static final class Vectorized {
        static final VectorSpecies<Float> S =
                VectorSpecies.of(float.class, VectorShape.forBitSize(VectorSupport.floatLanes() * Float.SIZE));

        private Vectorized() {
        }

        /**
         * {@link Attention#accumulateValues} four vectors of the head at a time, held in registers across the
         * block; the head's elements past its last whole vector one at a time.
         */
        static void accumulateValues(float[] p, int po, int count, float[] values, int headDim, float[] out,
                                     int oo) {
            int lanes = S.length();
            int d = 0;
            for (; d + 4 * lanes <= headDim; d += 4 * lanes) {
                FloatVector a0 = FloatVector.fromArray(S, out, oo + d);
                FloatVector a1 = FloatVector.fromArray(S, out, oo + d + lanes);
                FloatVector a2 = FloatVector.fromArray(S, out, oo + d + 2 * lanes);
                FloatVector a3 = FloatVector.fromArray(S, out, oo + d + 3 * lanes);
                for (int t = 0; t < count; t++) {
                    FloatVector pt = FloatVector.broadcast(S, p[po + t]);
                    int v = t * headDim + d;
                    a0 = FloatVector.fromArray(S, values, v).fma(pt, a0);
                    a1 = FloatVector.fromArray(S, values, v + lanes).fma(pt, a1);
                    a2 = FloatVector.fromArray(S, values, v + 2 * lanes).fma(pt, a2);
                    a3 = FloatVector.fromArray(S, values, v + 3 * lanes).fma(pt, a3);
                }
                a0.intoArray(out, oo + d);
                a1.intoArray(out, oo + d + lanes);
                a2.intoArray(out, oo + d + 2 * lanes);
                a3.intoArray(out, oo + d + 3 * lanes);
            }
            for (; d + lanes <= headDim; d += lanes) {
                FloatVector a = FloatVector.fromArray(S, out, oo + d);
                for (int t = 0; t < count; t++) {
                    a = FloatVector.fromArray(S, values, t * headDim + d)
                            .fma(FloatVector.broadcast(S, p[po + t]), a);
                }
                a.intoArray(out, oo + d);
            }
            if (d < headDim) {
                accumulateValuesScalar(p, po, count, values, headDim, out, oo, d);
            }
        }

        /** The most heads {@link #accumulateSpreadValues} puts side by side in a vector. */
        static final int MAX_SPREAD = 4;

        // Per number of heads side by side (2 or 4, index spread / 4): the lanes of one head, where a position's
        // values are loaded; the shuffle copying them into every head's lanes; and the lanes of heads 1, 2, 3 and
        // above, where the blends put each head's probability.
        private static final VectorMask<Float>[] HEAD = masks(k -> k < 1);
        private static final VectorMask<Float>[] FROM_HEAD_1 = masks(k -> k >= 1);
        private static final VectorMask<Float>[] FROM_HEAD_2 = masks(k -> k >= 2);
        private static final VectorMask<Float>[] FROM_HEAD_3 = masks(k -> k >= 3);
        private static final VectorShuffle<Float>[] REPEAT = repeats();

        @SuppressWarnings("unchecked")
        private static VectorMask<Float>[] masks(java.util.function.IntPredicate head) {
            VectorMask<Float>[] masks = new VectorMask[2];
            for (int i = 0; i < 2; i++) {
                int headDim = S.length() / (2 << i);
                boolean[] bits = new boolean[S.length()];
                for (int l = 0; l < bits.length; l++) {
                    bits[l] = headDim > 0 && head.test(l / headDim);
                }
                masks[i] = VectorMask.fromArray(S, bits, 0);
            }
            return masks;
        }

        @SuppressWarnings("unchecked")
        private static VectorShuffle<Float>[] repeats() {
            VectorShuffle<Float>[] shuffles = new VectorShuffle[2];
            for (int i = 0; i < 2; i++) {
                int headDim = Math.max(1, S.length() / (2 << i));
                shuffles[i] = VectorShuffle.fromOp(S, l -> l % headDim);
            }
            return shuffles;
        }

        /**
         * {@link Attention#accumulateValues} for {@code spread} (2 or 4) heads of one KV head at once, side by side
         * in one vector of {@code spread * headDim == lanes} lanes: head {@code k}'s probabilities at
         * {@code p[po + k * stride + t]}, its outputs at {@code out[oo + k * headDim ..]} (the heads' outputs are
         * contiguous), the block's values at {@code values[t * headDim ..]} with a vector's width of room after
         * the last. Each position's values are loaded into the first head's lanes and copied into the others'
         * (one masked load, one shuffle); lane {@code k * headDim + d} computes {@code fma(v[t][d], p_k[t], out)}
         * for {@code t = 0, 1, ..}: the scalar path's order, so its bits.
         */
        static void accumulateSpreadValues(float[] p, int po, int stride, int count, float[] values, int headDim,
                                           int spread, float[] out, int oo) {
            int i = spread / 4;
            VectorMask<Float> head = HEAD[i];
            VectorShuffle<Float> repeat = REPEAT[i];
            VectorMask<Float> m1 = FROM_HEAD_1[i];
            VectorMask<Float> m2 = FROM_HEAD_2[i];
            VectorMask<Float> m3 = FROM_HEAD_3[i];
            FloatVector a = FloatVector.fromArray(S, out, oo);
            for (int t = 0; t < count; t++) {
                FloatVector pt = FloatVector.broadcast(S, p[po + t])
                        .blend(FloatVector.broadcast(S, p[po + stride + t]), m1);
                if (spread > 2) {
                    pt = pt.blend(FloatVector.broadcast(S, p[po + 2 * stride + t]), m2)
                            .blend(FloatVector.broadcast(S, p[po + 3 * stride + t]), m3);
                }
                a = FloatVector.fromArray(S, values, t * headDim, head).rearrange(repeat).fma(pt, a);
            }
            a.intoArray(out, oo);
        }

        /**
         * Scores of a block's positions, a vector of positions at a time, from the block's keys transposed in
         * {@code keys[d * blockSize + slot]}: {@code sum_d q[d] * K[d][slot]} with four partial sums over
         * {@code d mod 4} (independent FMA chains), added in a fixed order.
         */
        static void scoreBlock(float[] q, int qo, float[] keys, int headDim, int blockSize, float scale,
                               float[] scores, int so) {
            for (int i = 0; i < blockSize; i += S.length()) {
                FloatVector a0 = FloatVector.zero(S);
                FloatVector a1 = a0;
                FloatVector a2 = a0;
                FloatVector a3 = a0;
                int d = 0;
                for (; d + 4 <= headDim; d += 4) {
                    int k = i + d * blockSize;
                    a0 = FloatVector.fromArray(S, keys, k).fma(FloatVector.broadcast(S, q[qo + d]), a0);
                    a1 = FloatVector.fromArray(S, keys, k + blockSize)
                            .fma(FloatVector.broadcast(S, q[qo + d + 1]), a1);
                    a2 = FloatVector.fromArray(S, keys, k + 2 * blockSize)
                            .fma(FloatVector.broadcast(S, q[qo + d + 2]), a2);
                    a3 = FloatVector.fromArray(S, keys, k + 3 * blockSize)
                            .fma(FloatVector.broadcast(S, q[qo + d + 3]), a3);
                }
                for (; d < headDim; d++) {
                    a0 = FloatVector.fromArray(S, keys, i + d * blockSize)
                            .fma(FloatVector.broadcast(S, q[qo + d]), a0);
                }
                a0.add(a1).add(a2.add(a3)).mul(scale).intoArray(scores, so + i);
            }
        }
    }
}
