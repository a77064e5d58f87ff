package dev.continuum.engine;

import dev.continuum.runner.ModelRunner;
import dev.continuum.runner.StepBatch;

import java.util.Arrays;

/**
 * Measures a runner's {@link StepCosts} through the seam, once, before it serves: one sequence's context is filled
 * to {@link #CONTEXT} positions, then steps of 1, 2, 3, 4, 6, 8, 12, ... rows after it (and of {@code maxRows}
 * itself) are timed, every row asking for logits, as decode and verification rows do. Each row count runs once
 * untimed and {@link #REPEATS} times timed, the fastest kept (the others met a busy machine). Counts stop growing
 * at {@code maxRows}, at the KV storage's end, or when the time spent reaches the budget (past it the table
 * extrapolates: the largest steps are compute-bound and linear in their rows).
 *
 * <p>Writes only the blocks it names (the first of the pool) and only before the engine has placed anything there.
 */
public final class StepCostProbe {
    /** Positions before the timed rows: attention has a context to read, as in a real decode step. */
    static final int CONTEXT = 64;
    static final int REPEATS = 5;
    /** Enough to reach the compute-bound region of a small model; a 1B model stops by the budget. */
    static final long DEFAULT_BUDGET_NANOS = 2_000_000_000L;

    private final int blocks;
    private final int blockSize;
    private final int maxRows;
    private final long budgetNanos;

    /**
     * @param blocks      KV blocks allocated on the runners it will measure
     * @param blockSize   positions per block
     * @param maxRows     the largest step worth pricing (rows beyond it are extrapolated)
     * @param budgetNanos time after which no larger step is measured
     */
    public StepCostProbe(int blocks, int blockSize, int maxRows, long budgetNanos) {
        if (blocks < 1 || blockSize < 1 || maxRows < 1 || budgetNanos < 0) {
            throw new IllegalArgumentException("a step cost probe needs blocks, a block size and rows to measure");
        }
        this.blocks = blocks;
        this.blockSize = blockSize;
        this.maxRows = maxRows;
        this.budgetNanos = budgetNanos;
    }

    /** The probe for an engine's KV pool and its largest speculative step. */
    static StepCostProbe forEngine(EngineConfig config, int maxProposedTokens) {
        long rows = Math.min(config.maxBatchedTokens(), (long) config.maxNumSeqs() * (1 + maxProposedTokens));
        return new StepCostProbe(config.kvBlocks(), config.blockSize(), (int) rows, DEFAULT_BUDGET_NANOS);
    }

    /** Times {@code runner}'s steps (its KV cache allocated as this probe was told). */
    public StepCosts measure(ModelRunner runner) {
        int positions = (int) Math.min((long) blocks * blockSize, runner.shape().contextLength());
        int context = Math.min(CONTEXT, positions / 2);
        int largest = Math.min(maxRows, positions - context);
        if (largest < 1) {
            return StepCosts.FREE; // nothing fits beside the context: no step can verify anything anyway
        }
        int used = (context + largest + blockSize - 1) / blockSize;
        int[][] tables = new int[1][used];
        for (int b = 0; b < used; b++) {
            tables[0][b] = b;
        }
        int vocab = runner.shape().vocabSize();
        StepBatch batch = new StepBatch(Math.max(context, largest), largest, tables, blockSize);
        batch.clear();
        batch.markTableChanged(0); // a runner that keeps its own copy of the tables (a device) must read this one
        if (context > 0) {
            for (int p = 0; p < context; p++) {
                batch.addRow(token(p, vocab), p, 0);
            }
            batch.requestLogits(context - 1);
            runner.forward(batch);
            batch.clear();
        }
        int[] rows = new int[64];
        double[] nanos = new double[64];
        int n = 0;
        long start = System.nanoTime();
        for (int r = 1; ; r = Math.min(next(r), largest)) {
            rows[n] = r;
            nanos[n] = fastest(runner, batch, context, r, vocab);
            n++;
            if (r == largest || n == rows.length || (n >= 2 && System.nanoTime() - start > budgetNanos)) {
                break;
            }
        }
        return new StepCosts(Arrays.copyOf(rows, n), Arrays.copyOf(nanos, n));
    }

    /** 1, 2, 3, 4, 6, 8, 12, 16, 24, ...: each count about 1.4x the last, halfway points between powers of two. */
    static int next(int r) {
        if (r < 4) {
            return r + 1;
        }
        int power = Integer.highestOneBit(r);
        return r == power ? r + power / 2 : 2 * power;
    }

    /** The fastest of {@link #REPEATS} timed steps of {@code r} rows, after one untimed; leaves the batch empty. */
    private static double fastest(ModelRunner runner, StepBatch batch, int context, int r, int vocab) {
        long best = Long.MAX_VALUE;
        for (int i = 0; i <= REPEATS; i++) {
            for (int j = 0; j < r; j++) {
                batch.addRow(token(context + j, vocab), context + j, 0);
                batch.requestLogits(j);
            }
            long t0 = System.nanoTime();
            runner.forward(batch);
            long t = System.nanoTime() - t0;
            batch.clear();
            if (i > 0) {
                best = Math.min(best, t);
            }
        }
        return best;
    }

    private static int token(int position, int vocab) {
        return position == 0 ? Math.min(1, vocab - 1) : (int) ((position * 7919L) % vocab);
    }
}
