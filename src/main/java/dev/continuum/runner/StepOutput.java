package dev.continuum.runner;

/**
 * Logits of the rows a {@link StepBatch} asked for: output row {@code j} (for batch row
 * {@code batch.logitRow(j)}) is {@code logits()[j * vocabSize .. (j + 1) * vocabSize)}. Owned and reused by the
 * runner; valid until its next forward pass. The engine may modify the rows (sampling does, in place).
 */
public final class StepOutput {
    private final float[] logits;
    private final int vocabSize;
    private int rows;

    public StepOutput(int maxRows, int vocabSize) {
        if (maxRows < 1 || vocabSize < 1) {
            throw new IllegalArgumentException("step output of " + maxRows + " rows of " + vocabSize);
        }
        this.logits = new float[Math.multiplyExact(maxRows, vocabSize)];
        this.vocabSize = vocabSize;
    }

    /** The logits buffer, row after row; only the first {@link #rows()} rows are this step's. */
    public float[] logits() {
        return logits;
    }

    /** Offset of output row {@code j} in {@link #logits()}. */
    public int offset(int j) {
        return j * vocabSize;
    }

    public int rows() {
        return rows;
    }

    public int vocabSize() {
        return vocabSize;
    }

    public int maxRows() {
        return logits.length / vocabSize;
    }

    /** Sets how many rows this step filled; the runner calls it. */
    public void setRows(int rows) {
        if (rows < 0 || rows > maxRows()) {
            throw new IllegalArgumentException(rows + " logits rows, room for " + maxRows());
        }
        this.rows = rows;
    }
}
