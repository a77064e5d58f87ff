package dev.continuum.engine;

import dev.continuum.runner.ModelRunner;
import dev.continuum.runner.ModelShape;
import dev.continuum.runner.StepBatch;
import dev.continuum.runner.StepOutput;
import dev.continuum.runner.WarmupReport;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A model runner with no model, for scheduler tests: its "KV cache" stores, per block position, the token and
 * position written there, and a logits row is a fixed function of the sequence's whole history read back
 * through its block table. So the scheduler's output equals {@link #greedy} only if every block it named holds
 * what it should: a wrong table, a missing fork copy or a stale block after truncation changes the tokens, and
 * reading a position never written fails at once.
 */
final class FakeRunner implements ModelRunner {
    static final int VOCAB = 320;
    static final int EOS = 2;

    /** One forward pass as the runner saw it. */
    record Step(int rows, int logitRows, int[] slots, int[] positions, int[] changedTables) {
        int rowsOf(int slot) {
            int n = 0;
            for (int s : slots) {
                if (s == slot) {
                    n++;
                }
            }
            return n;
        }

        int distinctSlots() {
            return (int) Arrays.stream(slots).distinct().count();
        }
    }

    private final int contextLength;
    private final boolean avoidEos;
    private int[][] tokens;
    private int[][] positions;
    private int blockSize;
    private StepOutput output;
    final List<Step> steps = new ArrayList<>();
    int copies;
    /** Fails the forward pass with this message when set. */
    String failNext;

    /** @param avoidEos keep the end-of-generation token from ever winning, so outputs run to their length */
    FakeRunner(int contextLength, boolean avoidEos) {
        this.contextLength = contextLength;
        this.avoidEos = avoidEos;
    }

    @Override
    public ModelShape shape() {
        return new ModelShape(VOCAB, contextLength, 1, 8);
    }

    @Override
    public void allocateKvCache(int blocks, int blockSize) {
        this.blockSize = blockSize;
        tokens = new int[blocks][blockSize];
        positions = new int[blocks][blockSize];
        for (int b = 0; b < blocks; b++) {
            Arrays.fill(tokens[b], -1);
            Arrays.fill(positions[b], -1);
        }
    }

    @Override
    public StepOutput forward(StepBatch batch) {
        if (failNext != null) {
            String m = failNext;
            failNext = null;
            throw new IllegalStateException(m);
        }
        if (output == null || output.maxRows() < batch.maxLogitRows()) {
            output = new StepOutput(batch.maxLogitRows(), VOCAB);
        }
        int n = batch.rows();
        int[][] tables = batch.blockTables();
        // Like a real model, every row writes its key first; attention then reads each row's history.
        for (int i = 0; i < n; i++) {
            int block = tables[batch.slot(i)][batch.position(i) / blockSize];
            tokens[block][batch.position(i) % blockSize] = batch.token(i);
            positions[block][batch.position(i) % blockSize] = batch.position(i);
        }
        for (int j = 0; j < batch.logitRowCount(); j++) {
            int row = batch.logitRow(j);
            int[] table = tables[batch.slot(row)];
            int[] history = new int[batch.position(row) + 1];
            for (int p = 0; p < history.length; p++) {
                int block = table[p / blockSize];
                if (positions[block][p % blockSize] != p) {
                    throw new AssertionError("slot " + batch.slot(row) + " reads position " + p + " from block "
                            + block + ", which holds position " + positions[block][p % blockSize]);
                }
                history[p] = tokens[block][p % blockSize];
            }
            logits(history, history.length, output.logits(), output.offset(j), avoidEos);
        }
        output.setRows(batch.logitRowCount());
        int[] slots = Arrays.copyOf(batch.slotArray(), n);
        int[] changed = new int[batch.changedSlotCount()];
        for (int i = 0; i < changed.length; i++) {
            changed[i] = batch.changedSlot(i);
        }
        steps.add(new Step(n, batch.logitRowCount(), slots, Arrays.copyOf(batch.positionArray(), n), changed));
        return output;
    }

    @Override
    public void copyBlock(int src, int dst) {
        copies++;
        System.arraycopy(tokens[src], 0, tokens[dst], 0, blockSize);
        System.arraycopy(positions[src], 0, positions[dst], 0, blockSize);
    }

    @Override
    public WarmupReport warmUp(int decodeSteps) {
        return new WarmupReport(0, "nothing to warm up");
    }

    @Override
    public String describe() {
        return "fake runner";
    }

    /** The logits after {@code history[0..length)}: a pseudo-random spread with a unique largest entry. */
    static void logits(int[] history, int length, float[] out, int offset, boolean avoidEos) {
        long h = 1125899906842597L;
        for (int i = 0; i < length; i++) {
            h = 31 * h + history[i] + 7L * i;
        }
        for (int t = 0; t < VOCAB; t++) {
            long x = (h ^ (t * 0x9E3779B97F4A7C15L)) * 0xBF58476D1CE4E5B9L;
            x ^= x >>> 29;
            out[offset + t] = (float) ((x >>> 40) / (double) (1L << 24)) * 4f;
        }
        if (avoidEos) {
            out[offset + EOS] = -100f;
        }
    }

    /** What greedy decoding of {@code prompt} gives, {@code count} tokens, straight from {@link #logits}. */
    static int[] greedy(int[] prompt, int count, boolean avoidEos) {
        int[] all = Arrays.copyOf(prompt, prompt.length + count);
        float[] row = new float[VOCAB];
        for (int i = 0; i < count; i++) {
            logits(all, prompt.length + i, row, 0, avoidEos);
            int best = 0;
            for (int t = 1; t < VOCAB; t++) {
                if (row[t] > row[best]) {
                    best = t;
                }
            }
            all[prompt.length + i] = best;
        }
        return Arrays.copyOfRange(all, prompt.length, all.length);
    }
}
