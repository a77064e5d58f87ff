package dev.continuum.model;

import dev.continuum.tensor.ComputePool;

/**
 * One layer's attention of every token of a step, split across the pool by token or by (token, KV head), over
 * {@link Attention#heads}: what a forward pass calls after writing the step's keys and values. Reused across
 * steps, so a step allocates nothing once each thread's scratch has met the longest sequence.
 *
 * <p>Every architecture's pass shares it; the scores are soft-capped where the config says so (Gemma 2).
 */
final class PooledAttention implements ComputePool.RangeBody {
    /** Below this many multiply-adds (scores and value sums) a step's attention runs on the calling thread alone. */
    private static final long SERIAL_MACS = 1L << 16;
    private final LlamaConfig config;
    private final ComputePool pool;
    private final float scale;
    private final Attention.Scratch[] scratch;
    private int layer;
    private int[] positions;
    private int[] slots;
    private int[][] tables;
    private Float16KvStore kv;
    private int window;
    private float[] q;
    private float[] out;
    private int headsPerItem;

    /** @param scale what each query-key product is multiplied by before the softmax */
    PooledAttention(LlamaConfig config, ComputePool pool, float scale) {
        this.config = config;
        this.pool = pool;
        this.scale = scale;
        this.scratch = new Attention.Scratch[pool.threads()];
    }

    /**
     * {@code out[i * qDim ..]} = token {@code i}'s attention output for its queries at {@code q[i * qDim ..]}, over
     * its sequence's cached keys and values of {@code layer}, within {@code window} positions
     * ({@link SlidingWindow#positionsFor}).
     */
    void run(int layer, int n, float[] q, float[] out, int[] positions, int[] slots, int[][] tables,
             Float16KvStore kv, int window) {
        this.layer = layer;
        this.window = window;
        this.q = q;
        this.out = out;
        this.positions = positions;
        this.slots = slots;
        this.tables = tables;
        this.kv = kv;
        // Enough tokens to keep every thread busy: one item per token, whose KV heads then stream as one
        // contiguous run per block. Otherwise one item per (token, KV head).
        this.headsPerItem = n >= 2 * pool.threads() ? config.kvHeads() : 1;
        int items = n * config.kvHeads() / headsPerItem;
        try {
            long work = 0;
            for (int i = 0; i < n; i++) {
                work += Math.min(positions[i] + 1L, window);
            }
            if (2 * work * config.qDim() < SERIAL_MACS) {
                run(0, 0, items); // less work than waking the other threads costs
            } else {
                pool.parallelFor(items, this);
            }
        } finally {
            this.q = null;
            this.out = null;
            this.positions = null;
            this.slots = null;
            this.tables = null;
            this.kv = null;
        }
    }

    @Override
    public void run(int worker, int from, int to) {
        int kvHeads = config.kvHeads();
        int group = config.heads() / kvHeads;
        int headDim = config.headDim();
        int qDim = config.qDim();
        int perToken = kvHeads / headsPerItem;
        Attention.Scratch work = scratch[worker];
        if (work == null || work.block.length < kv.blockSize() * headDim) {
            work = scratch[worker] = new Attention.Scratch(kv.blockSize(), headDim, config.contextLength(),
                    config.heads());
        }
        for (int item = from; item < to; item++) {
            int i = item / perToken;
            int g = (item % perToken) * headsPerItem;
            int offset = i * qDim + g * group * headDim;
            Attention.heads(q, offset, group, kv, layer, tables[slots[i]], positions[i], g, headsPerItem, scale,
                    window, config.attnLogitSoftcap(), out, offset, work);
        }
    }
}
