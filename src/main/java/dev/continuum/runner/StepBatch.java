package dev.continuum.runner;

/**
 * One step's work for a {@link ModelRunner}, flattened: row {@code i} is token {@code token(i)} of the sequence in
 * KV slot {@code slot(i)} at position {@code position(i)}. Rows of one sequence are consecutive and in position
 * order (a prefill chunk, a decode token, or a decode token followed by proposed tokens to verify); any mix of
 * sequences may share a step. Logits are wanted only for the rows in {@link #logitRow}, in that order, and a
 * sequence may ask for several.
 *
 * <p>Block tables are the engine's: {@code blockTables()[slot][j]} is the block that holds positions
 * {@code [j * blockSize, (j + 1) * blockSize)} of that slot's sequence. The rows the engine changed since the
 * previous step are listed in {@link #changedSlot}, so a runner that keeps its own copy (a device) refreshes only
 * those. A runner reads the tables and never writes them.
 *
 * <p>Reused from step to step: the engine {@link #clear}s and refills it, so a step allocates nothing.
 */
public final class StepBatch {
    private final int[] tokens;
    private final int[] positions;
    private final int[] slots;
    private final int[] logitRows;
    private final int[][] blockTables;
    private final int blockSize;
    private final int[] changedSlots;
    private int rows;
    private int logitRowCount;
    private int changedSlotCount;

    /**
     * @param maxRows      most tokens one step carries
     * @param maxLogitRows most logits rows one step asks for
     * @param blockTables  the engine's block tables, one row per KV slot (read through, never copied)
     * @param blockSize    positions per block
     */
    public StepBatch(int maxRows, int maxLogitRows, int[][] blockTables, int blockSize) {
        if (maxRows < 1 || maxLogitRows < 1 || maxLogitRows > maxRows || blockSize < 1 || blockTables.length < 1) {
            throw new IllegalArgumentException("a step batch needs room for rows (" + maxRows + "), logits rows ("
                    + maxLogitRows + "), a block size (" + blockSize + ") and slots (" + blockTables.length + ")");
        }
        this.tokens = new int[maxRows];
        this.positions = new int[maxRows];
        this.slots = new int[maxRows];
        this.logitRows = new int[maxLogitRows];
        this.blockTables = blockTables;
        this.blockSize = blockSize;
        this.changedSlots = new int[blockTables.length];
    }

    /** Empties the batch for the next step; the list of changed table rows starts empty too. */
    public void clear() {
        rows = 0;
        logitRowCount = 0;
        changedSlotCount = 0;
    }

    /** Appends a row and returns its index. */
    public int addRow(int token, int position, int slot) {
        if (rows == tokens.length) {
            throw new IllegalStateException("the step batch holds at most " + tokens.length + " rows");
        }
        if (slot < 0 || slot >= blockTables.length || position < 0) {
            throw new IllegalArgumentException("row with slot " + slot + " (of " + blockTables.length
                    + ") at position " + position);
        }
        tokens[rows] = token;
        positions[rows] = position;
        slots[rows] = slot;
        return rows++;
    }

    /** Asks for the logits of row {@code row}; they come back as the next row of the {@link StepOutput}. */
    public void requestLogits(int row) {
        if (row < 0 || row >= rows) {
            throw new IllegalArgumentException("logits asked for row " + row + " of " + rows);
        }
        if (logitRowCount == logitRows.length) {
            throw new IllegalStateException("the step batch returns at most " + logitRows.length + " logits rows");
        }
        logitRows[logitRowCount++] = row;
    }

    /**
     * Records that the engine changed slot {@code slot}'s block table since the previous step; each slot at most
     * once per step (the block manager's list of changed rows already is).
     */
    public void markTableChanged(int slot) {
        if (slot < 0 || slot >= blockTables.length || changedSlotCount == changedSlots.length) {
            throw new IllegalArgumentException("slot " + slot + " marked changed (" + changedSlotCount + " of "
                    + blockTables.length + " already)");
        }
        changedSlots[changedSlotCount++] = slot;
    }

    public int rows() {
        return rows;
    }

    public int token(int row) {
        return tokens[row];
    }

    public int position(int row) {
        return positions[row];
    }

    public int slot(int row) {
        return slots[row];
    }

    /** Token ids by row; entries past {@link #rows()} are stale. For kernels that take arrays; do not modify. */
    public int[] tokenArray() {
        return tokens;
    }

    /** Positions by row, as {@link #tokenArray}. */
    public int[] positionArray() {
        return positions;
    }

    /** KV slots by row, as {@link #tokenArray}. */
    public int[] slotArray() {
        return slots;
    }

    public int logitRowCount() {
        return logitRowCount;
    }

    /** The batch row whose logits come back as output row {@code j}. */
    public int logitRow(int j) {
        return logitRows[j];
    }

    /** Logit rows as {@link #tokenArray}: the first {@link #logitRowCount()} entries are valid. */
    public int[] logitRowArray() {
        return logitRows;
    }

    public int[][] blockTables() {
        return blockTables;
    }

    public int blockSize() {
        return blockSize;
    }

    public int changedSlotCount() {
        return changedSlotCount;
    }

    /** The {@code i}-th slot whose block table changed since the previous step. */
    public int changedSlot(int i) {
        return changedSlots[i];
    }

    public int maxRows() {
        return tokens.length;
    }

    public int maxLogitRows() {
        return logitRows.length;
    }
}
