package dev.continuum.cuda;

import dev.continuum.runner.StepBatch;

/**
 * Which kernel multiplies which rows of a step, decided per sequence so that a token's arithmetic never depends on
 * what else shares the step: a sequence with more than {@value #GEMV_MAX_TOKENS} rows in the step (a prefill chunk)
 * takes the tensor-core GEMM, the others (decode tokens, short chunks, a decode token with its proposals) the GEMV,
 * up to {@value #GEMV_MAX_TOKENS} tokens per launch reading the weights once. Both kernels compute each row in an
 * order fixed by that row alone, so the batch around a sequence changes no bit of it (llama.cpp splits the same
 * way at {@code MMVQ_MAX_BATCH_SIZE 8}, but by the whole batch's size, which makes outputs depend on the batch).
 *
 * <p>Adjacent rows of the same kind form one segment; the scheduler lays decode rows before prefill chunks, so a
 * step usually has one GEMV segment and one GEMM segment. Reused from step to step.
 */
final class RowSegments {
    static final int GEMV_MAX_TOKENS = 8;

    private final int[] starts;
    private final int[] counts;
    private final boolean[] gemm;
    private int size;

    RowSegments(int maxRows) {
        this.starts = new int[maxRows];
        this.counts = new int[maxRows];
        this.gemm = new boolean[maxRows];
    }

    /** Plans the batch's rows. */
    void plan(StepBatch batch) {
        size = 0;
        int n = batch.rows();
        int i = 0;
        while (i < n) {
            int slot = batch.slot(i);
            int end = i + 1;
            while (end < n && batch.slot(end) == slot) {
                end++;
            }
            add(i, end - i, end - i > GEMV_MAX_TOKENS);
            i = end;
        }
    }

    /** All {@code rows} rows through the GEMV (the classifier over the logits rows: one row per sequence's sample). */
    void gemvOnly(int rows) {
        size = 0;
        if (rows > 0) {
            add(0, rows, false);
        }
    }

    private void add(int start, int count, boolean useGemm) {
        if (size > 0 && gemm[size - 1] == useGemm && starts[size - 1] + counts[size - 1] == start) {
            counts[size - 1] += count;
            return;
        }
        starts[size] = start;
        counts[size] = count;
        gemm[size] = useGemm;
        size++;
    }

    int size() {
        return size;
    }

    int start(int s) {
        return starts[s];
    }

    int count(int s) {
        return counts[s];
    }

    boolean gemm(int s) {
        return gemm[s];
    }
}
