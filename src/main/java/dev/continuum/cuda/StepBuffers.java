package dev.continuum.cuda;

import dev.continuum.model.LlamaConfig;
import dev.continuum.runner.StepBatch;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;

import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The device memory a step works in, sized once for the engine's largest step (its {@link StepBatch}'s capacity):
 * activations, the per-step arrays, the device's mirror of the block tables, the logits rows; and their page-locked
 * host twins. Every address is fixed for the runner's life, which is what lets a step be captured as a graph.
 *
 * <p>The per-step arrays are one int buffer of five regions of fixed offsets, {@code [tokens | positions |
 * slot mapping | row slots | logits rows]}, sent with one copy. The slot mapping is each row's KV cache slot,
 * {@code table[slot][pos / blockSize] * blockSize + pos % blockSize}, computed here on the host where the tables are.
 */
final class StepBuffers implements AutoCloseable {
    private final CudaDriver driver;
    private final List<DeviceBuffer> device = new ArrayList<>();
    private final int maxRows;
    private final int maxLogitRows;
    private final int slots;
    final int maxBlocks;
    final DeviceBuffer x;
    final DeviceBuffer xb;
    final DeviceBuffer q;
    final DeviceBuffer k;
    final DeviceBuffer v;
    final DeviceBuffer att;
    final DeviceBuffer hb;
    final DeviceBuffer hb2;
    final DeviceBuffer xq;
    final DeviceBuffer xd;
    final DeviceBuffer logits;
    final DeviceBuffer stepInts;
    final DeviceBuffer tables;
    private final HostBuffer stepHost;
    private final HostBuffer tablesHost;
    private final HostBuffer logitsHost;
    private final IntBuffer stepView;
    private final IntBuffer tablesView;
    private final FloatBuffer logitsView;
    private final CUdeviceptr[] tableRowsDevice;
    private final Pointer[] tableRowsHost;
    final RowSegments segments;
    final RowSegments logitSegments;

    StepBuffers(CudaDriver driver, LlamaConfig c, StepBatch batch) {
        this.driver = driver;
        this.maxRows = batch.maxRows();
        this.maxLogitRows = batch.maxLogitRows();
        this.slots = batch.blockTables().length;
        this.maxBlocks = batch.blockTables()[0].length;
        int widest = Math.max(c.dim(), Math.max(c.qDim(), c.ffnDim()));
        long rows = maxRows;
        try {
            x = alloc(rows * c.dim() * 4, "activations");
            xb = alloc(rows * Math.max(c.dim(), c.qDim()) * 4, "activations");
            q = alloc(rows * c.qDim() * 4, "queries");
            k = alloc(rows * c.kvDim() * 4, "keys");
            v = alloc(rows * c.kvDim() * 4, "values");
            att = alloc(rows * c.qDim() * 4, "attention output");
            hb = alloc(rows * c.ffnDim() * 4, "feed-forward activations");
            hb2 = alloc(rows * c.ffnDim() * 4, "feed-forward activations");
            xq = alloc(rows * widest, "8-bit activations");
            xd = alloc(rows * ((widest + 31) / 32) * 4, "8-bit activation scales");
            logits = alloc((long) maxLogitRows * c.vocabSize() * 4, "logits");
            stepInts = alloc((4L * maxRows + maxLogitRows) * 4, "step arrays");
            tables = alloc((long) slots * maxBlocks * 4, "block tables");
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        stepHost = driver.allocateHost((4L * maxRows + maxLogitRows) * 4);
        tablesHost = driver.allocateHost((long) slots * maxBlocks * 4);
        logitsHost = driver.allocateHost((long) maxLogitRows * c.vocabSize() * 4);
        stepView = stepHost.view().asIntBuffer();
        tablesView = tablesHost.view().asIntBuffer();
        logitsView = logitsHost.view().asFloatBuffer();
        tableRowsDevice = new CUdeviceptr[slots];
        tableRowsHost = new Pointer[slots];
        for (int s = 0; s < slots; s++) {
            tableRowsDevice[s] = driver.at(tables, (long) s * maxBlocks * 4);
            tableRowsHost[s] = tablesHost.pointer().withByteOffset((long) s * maxBlocks * 4);
        }
        segments = new RowSegments(maxRows);
        logitSegments = new RowSegments(Math.max(1, maxLogitRows));
    }

    private DeviceBuffer alloc(long bytes, String what) {
        DeviceBuffer b = driver.allocate(bytes, what);
        device.add(b);
        return b;
    }

    /** Whether a batch fits these buffers (the engine keeps one batch, so this holds after the first step). */
    boolean fits(StepBatch batch) {
        return batch.maxRows() <= maxRows && batch.maxLogitRows() <= maxLogitRows
                && batch.blockTables().length == slots && batch.blockTables()[0].length == maxBlocks;
    }

    long tokens() {
        return stepInts.address();
    }

    long positions() {
        return stepInts.address() + 4L * maxRows;
    }

    long slotMapping() {
        return stepInts.address() + 8L * maxRows;
    }

    long rowSlots() {
        return stepInts.address() + 12L * maxRows;
    }

    long logitRows() {
        return stepInts.address() + 16L * maxRows;
    }

    /** Checks the batch's rows and writes the per-step arrays into the host staging buffer. */
    void stage(StepBatch batch, CudaKvStore kv, LlamaConfig c) {
        int n = batch.rows();
        int blockSize = kv.blockSize();
        int[][] t = batch.blockTables();
        for (int i = 0; i < n; i++) {
            int token = batch.token(i);
            int pos = batch.position(i);
            int slot = batch.slot(i);
            if (token < 0 || token >= c.vocabSize()) {
                throw new IllegalArgumentException("token id " + token + " is outside the vocabulary (0.."
                        + (c.vocabSize() - 1) + ")");
            }
            if (pos < 0 || pos >= c.contextLength()) {
                throw new IllegalArgumentException("position " + pos + " is outside the context (0.."
                        + (c.contextLength() - 1) + ")");
            }
            int entry = pos / blockSize;
            if (entry >= t[slot].length || t[slot][entry] < 0 || t[slot][entry] >= kv.blocks()) {
                throw new IllegalArgumentException("slot " + slot + " has no valid block for position " + pos);
            }
            // Every block a row attends to must be valid too: the kernel reads entries 0..entry of its table.
            for (int j = 0; j < entry; j++) {
                if (t[slot][j] < 0 || t[slot][j] >= kv.blocks()) {
                    throw new IllegalArgumentException("slot " + slot + " has no valid block for position " + j * blockSize);
                }
            }
            stepView.put(i, token);
            stepView.put(maxRows + i, pos);
            stepView.put(2 * maxRows + i, t[slot][entry] * blockSize + pos % blockSize);
            stepView.put(3 * maxRows + i, slot);
        }
        for (int j = 0; j < batch.logitRowCount(); j++) {
            stepView.put(4 * maxRows + j, batch.logitRow(j));
        }
    }

    /** Sends the per-step arrays (the whole fixed-size buffer: a few KiB, one copy). */
    void uploadStep(CudaDriver d, CUstream stream) {
        d.copyToDevice(stepInts.pointer(), stepHost.pointer(), stepHost.bytes(), stream);
    }

    /** Sends the block-table rows the engine changed since the previous step, or all of them when {@code all}. */
    void uploadTables(CudaDriver d, CUstream stream, StepBatch batch, boolean all) {
        int[][] t = batch.blockTables();
        if (all) {
            for (int s = 0; s < slots; s++) {
                tablesView.put(s * maxBlocks, t[s], 0, maxBlocks);
            }
            d.copyToDevice(tables.pointer(), tablesHost.pointer(), tablesHost.bytes(), stream);
            return;
        }
        for (int i = 0; i < batch.changedSlotCount(); i++) {
            int s = batch.changedSlot(i);
            tablesView.put(s * maxBlocks, t[s], 0, maxBlocks);
            d.copyToDevice(tableRowsDevice[s], tableRowsHost[s], (long) maxBlocks * 4, stream);
        }
    }

    /** Copies the first {@code rows} logits rows back and waits for the step to finish. */
    void downloadLogits(CudaDriver d, CUstream stream, int rows, float[] out) {
        int count = rows * (int) (logits.bytes() / 4 / maxLogitRows);
        d.copyToHost(logitsHost.pointer(), logits.pointer(), (long) count * 4, stream);
        d.synchronize(stream);
        logitsView.get(0, out, 0, count);
    }

    @Override
    public void close() {
        for (DeviceBuffer b : device) {
            driver.free(b);
        }
        device.clear();
        for (HostBuffer h : new HostBuffer[] {stepHost, tablesHost, logitsHost}) {
            if (h != null) {
                driver.freeHost(h);
            }
        }
    }
}
