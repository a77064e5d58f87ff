package dev.continuum.cuda;

import dev.continuum.model.LlamaConfig;
import dev.continuum.model.LlamaWeights;
import dev.continuum.model.RopeType;
import dev.continuum.runner.ModelRunner;
import dev.continuum.runner.ModelShape;
import dev.continuum.runner.RunnerBackend;
import dev.continuum.runner.StepBatch;
import dev.continuum.runner.StepOutput;
import dev.continuum.runner.WarmupReport;
import dev.continuum.tensor.GgmlType;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;

import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;

/**
 * The NVIDIA GPU backend behind the {@link ModelRunner} seam: a Llama-family transformer run by our CUDA kernels
 * ({@link KernelImage}) through the driver API, weights uploaded as stored, the KV cache in device memory
 * ({@link CudaKvStore}), sampling left to the engine on the host.
 *
 * <p>A step: the host validates the rows and writes the per-step arrays (tokens, positions, KV slot of each row,
 * sequence slot of each row, logits rows) into one page-locked buffer, sent with one copy, plus the block-table rows
 * the engine changed; then per layer RMSNorm, the Q/K/V projections (+ bias), RoPE writing keys and values into the
 * paged cache, paged attention over the block tables, the output projection added into the residual, RMSNorm,
 * gate/up, SwiGLU, down added into the residual; then the final norm and the classifier on the logits rows only,
 * whose logits are copied back. Every per-step value is read by the kernels from device buffers at fixed addresses
 * and only shapes are arguments, so a decode step can be captured as a CUDA graph.
 *
 * <p>Single-threaded, like every runner: built on the loader thread, driven by the engine thread; each entry point
 * makes the device's context current on the calling thread first.
 */
public final class CudaModelRunner implements ModelRunner {
    private static final int[] GEMV_TOKENS = {1, 2, 4, 8};

    private final LlamaConfig config;
    private final CudaDriver driver;
    private final CUstream stream;
    private final CUmodule module;
    private final DeviceWeights weights;
    private final ModelShape shape;
    private final RunnerBackend backend;
    private final Map<String, KernelCall> calls = new HashMap<>();
    /** The multiplication kernels of each weight format the model has. */
    private final Map<GgmlType, MatrixKernels> matrixKernels = new EnumMap<>(GgmlType.class);
    private final KernelCall embed;
    private final KernelCall rmsnorm;
    private final KernelCall addBias;
    private final KernelCall swiglu;
    private final KernelCall quantize;
    private final KernelCall rope;
    private final KernelCall attention;
    private final float thetaScale;
    private final float attentionScale;
    private CudaKvStore kv;
    private StepBuffers buffers;
    private boolean tablesFresh;
    private StepOutput output;
    private boolean closed;

    /**
     * Uploads the model to device 0.
     *
     * @throws CudaException if the device is unusable, the kernels do not load, or the model does not fit
     */
    public CudaModelRunner(LlamaConfig config, LlamaWeights stored) {
        CudaAvailability availability = CudaProbe.availability();
        if (!availability.available()) {
            throw new CudaException("the CUDA backend is not available: " + availability.reason());
        }
        if (!config.ropeScaling().isIdentity()) {
            throw new CudaException("the CUDA backend does not compute rope scaling yet (" + config.ropeScaling()
                    + "); use --backend cpu");
        }
        if (config.slidingWindow().size() > 0) {
            throw new CudaException("the CUDA backend does not compute sliding-window attention yet ("
                    + config.slidingWindow() + "); use --backend cpu");
        }
        if (!config.architecture().cudaComputes()) {
            throw new CudaException("the CUDA backend does not compute " + config.architecture()
                    + " models yet; use --backend cpu");
        }
        if (config.expertCount() != 0) {
            throw new CudaException("the CUDA backend does not compute mixture-of-experts models yet ("
                    + config.expertCount() + " experts per layer); use --backend cpu");
        }
        String unreadable = CudaWeightTypes.unreadableWeights(stored);
        if (unreadable != null) {
            throw new CudaException(unreadable);
        }
        this.config = config;
        this.driver = new CudaDriver(0);
        CUstream s = null;
        CUmodule m = null;
        DeviceWeights w = null;
        try {
            s = driver.createStream();
            m = driver.loadModule(KernelImage.bytes());
            this.stream = s;
            this.module = m;
            this.embed = call("embed_" + DeviceMatrix.suffix(stored.tokenEmbedding().type()), "pppi");
            this.rmsnorm = call("rmsnorm", "ppppif");
            this.addBias = call("add_bias", "ppii");
            this.swiglu = call("swiglu", "ppi");
            this.quantize = call("quantize_q8", "pppi");
            this.rope = call("rope_kv_write", "pppppppiiiifii");
            this.attention = attentionKernel(config.headDim());
            for (GgmlType type : stored.matrixTypes()) {
                String suffix = DeviceMatrix.suffix(type);
                String vector = DeviceMatrix.quantizedActivations(type) ? "ppppiiii" : "pppiiii";
                KernelCall[] gemv = new KernelCall[GEMV_TOKENS.length];
                for (int i = 0; i < GEMV_TOKENS.length; i++) {
                    gemv[i] = call("gemv_" + suffix + "_t" + GEMV_TOKENS[i], vector);
                }
                matrixKernels.put(type, new MatrixKernels(gemv, call("gemm_" + suffix, "pppiiii")));
            }
            w = new DeviceWeights(driver, stored, s);
            this.weights = w;
        } catch (RuntimeException e) {
            if (w != null) {
                w.close();
            }
            if (m != null) {
                driver.unload(m);
            }
            if (s != null) {
                driver.destroy(s);
            }
            driver.release();
            throw e;
        }
        this.thetaScale = (float) Math.pow(config.ropeTheta(), -2.0 / config.ropeDims());
        this.attentionScale = (float) (1.0 / Math.sqrt(config.headDim()));
        this.shape = new ModelShape(config.vocabSize(), config.contextLength(), config.layers(),
                2L * config.layers() * config.kvDim() * Short.BYTES);
        long[] info = driver.memoryInfo();
        this.backend = new RunnerBackend("cuda", String.format("cuda:%d %s (compute %s, %d SMs, driver %s), %.0f MiB"
                        + " of weights, %.0f MiB free of %.0f", driver.ordinal(), driver.deviceName(),
                driver.computeCapability(), driver.multiprocessors(), CudaProbe.availability().driverVersionText(),
                weights.bytes / 1048576.0, info[0] / 1048576.0, info[1] / 1048576.0));
    }

    private KernelCall call(String name, String signature) {
        KernelCall c = calls.get(name);
        if (c == null) {
            c = new KernelCall(driver, module, name, signature);
            calls.put(name, c);
        }
        return c;
    }

    /** The attention kernel specialised for this head size when the image has one, else the general one. */
    private KernelCall attentionKernel(int headDim) {
        if (headDim == 64 || headDim == 128) {
            try {
                return call("paged_attention_d" + headDim, "pppppppiiiiif");
            } catch (CudaException e) {
                if (e.code() != jcuda.driver.CUresult.CUDA_ERROR_NOT_FOUND) {
                    throw e;
                }
            }
        }
        return call("paged_attention", "pppppppiiiiif");
    }

    @Override
    public ModelShape shape() {
        return shape;
    }

    @Override
    public RunnerBackend backend() {
        return backend;
    }

    @Override
    public void allocateKvCache(int blocks, int blockSize) {
        driver.makeCurrent();
        if (kv != null) {
            driver.synchronize(stream);
            kv.close();
            kv = null;
        }
        kv = new CudaKvStore(driver, config.layers(), config.kvHeads(), config.headDim(), blocks, blockSize);
        tablesFresh = false;
    }

    @Override
    public StepOutput forward(StepBatch batch) {
        if (kv == null) {
            throw new IllegalStateException("allocateKvCache must be called before the first forward pass");
        }
        if (batch.blockSize() != kv.blockSize()) {
            throw new IllegalArgumentException("the batch's blocks hold " + batch.blockSize()
                    + " positions, the KV cache's " + kv.blockSize());
        }
        driver.makeCurrent();
        if (output == null || output.maxRows() < batch.maxLogitRows()) {
            output = new StepOutput(batch.maxLogitRows(), config.vocabSize());
        }
        StepBuffers b = buffersFor(batch);
        int n = batch.rows();
        int logitCount = batch.logitRowCount();
        b.stage(batch, kv, config);
        b.uploadStep(driver, stream);
        b.uploadTables(driver, stream, batch, !tablesFresh);
        tablesFresh = true;
        if (n > 0) {
            run(b, batch, n, logitCount);
        }
        if (logitCount > 0) {
            b.downloadLogits(driver, stream, logitCount, output.logits());
        } else {
            driver.synchronize(stream);
        }
        output.setRows(logitCount);
        return output;
    }

    private StepBuffers buffersFor(StepBatch batch) {
        if (buffers == null || !buffers.fits(batch)) {
            if (buffers != null) {
                driver.synchronize(stream);
                buffers.close();
                buffers = null;
            }
            buffers = new StepBuffers(driver, config, batch);
            tablesFresh = false;
        }
        return buffers;
    }

    private void run(StepBuffers b, StepBatch batch, int n, int logitCount) {
        int dim = config.dim();
        int qDim = config.qDim();
        int kvDim = config.kvDim();
        int ffn = config.ffnDim();
        float eps = config.rmsEps();
        b.segments.plan(batch);

        embed.pointer(0, weights.tokenEmbedding.data().address()).pointer(1, b.tokens()).pointer(2, b.x.address())
                .integer(3, dim).launch(driver, n, 1, 128, stream);
        for (int l = 0; l < config.layers(); l++) {
            DeviceLayer w = weights.layers[l];
            norm(b.x.address(), 0, w.attnNorm(), b.xb.address(), n, dim, eps);
            linear(w.wq(), b.xb.address(), b.q.address(), b.segments, false, b);
            linear(w.wk(), b.xb.address(), b.k.address(), b.segments, false, b);
            linear(w.wv(), b.xb.address(), b.v.address(), b.segments, false, b);
            bias(b.q.address(), w.bq(), n, qDim);
            bias(b.k.address(), w.bk(), n, kvDim);
            bias(b.v.address(), w.bv(), n, kvDim);
            rope.pointer(0, b.q.address()).pointer(1, b.k.address()).pointer(2, b.v.address())
                    .pointer(3, kv.keys(l)).pointer(4, kv.values(l)).pointer(5, b.positions()).pointer(6, b.slotMapping())
                    .integer(7, config.heads()).integer(8, config.kvHeads()).integer(9, config.headDim())
                    .integer(10, config.ropeDims()).real(11, thetaScale)
                    .integer(12, config.ropeType() == RopeType.NEOX ? 1 : 0).integer(13, kv.blockSize())
                    .launch(driver, n, 1, 128, stream);
            attention.pointer(0, b.att.address()).pointer(1, b.q.address()).pointer(2, kv.keys(l))
                    .pointer(3, kv.values(l)).pointer(4, b.tables.address()).pointer(5, b.rowSlots())
                    .pointer(6, b.positions()).integer(7, config.heads()).integer(8, config.kvHeads())
                    .integer(9, config.headDim()).integer(10, kv.blockSize()).integer(11, b.maxBlocks)
                    .real(12, attentionScale).launch(driver, config.heads(), n, 128, stream);
            linear(w.wo(), b.att.address(), b.x.address(), b.segments, true, b);
            norm(b.x.address(), 0, w.ffnNorm(), b.xb.address(), n, dim, eps);
            linear(w.gate(), b.xb.address(), b.hb.address(), b.segments, false, b);
            linear(w.up(), b.xb.address(), b.hb2.address(), b.segments, false, b);
            swiglu.pointer(0, b.hb.address()).pointer(1, b.hb2.address()).integer(2, n * ffn)
                    .launch(driver, ceil(n * ffn, 256), 1, 256, stream);
            linear(w.down(), b.hb.address(), b.x.address(), b.segments, true, b);
        }
        if (logitCount > 0) {
            norm(b.x.address(), b.logitRows(), weights.outputNorm, b.xb.address(), logitCount, dim, eps);
            b.logitSegments.gemvOnly(logitCount);
            linear(weights.output, b.xb.address(), b.logits.address(), b.logitSegments, false, b);
        }
    }

    private void norm(long x, long rowIndex, DeviceBuffer weight, long out, int rows, int dim, float eps) {
        rmsnorm.pointer(0, x).pointer(1, rowIndex).pointer(2, weight.address()).pointer(3, out).integer(4, dim)
                .real(5, eps).launch(driver, rows, 1, 256, stream);
    }

    private void bias(long x, DeviceBuffer bias, int rows, int width) {
        if (bias != null) {
            addBias.pointer(0, x).pointer(1, bias.address()).integer(2, rows).integer(3, width)
                    .launch(driver, ceil(rows * width, 256), 1, 256, stream);
        }
    }

    /**
     * {@code out[r] (+)= W . in[r]} for the planned rows: GEMV segments in launches of up to eight tokens (Q8_0 and
     * Q4_0 first quantize the segment's activations to 8 bits, as the CPU does), GEMM segments in one tensor-core
     * launch (on float activations rounded to f16).
     */
    private void linear(DeviceMatrix w, long in, long out, RowSegments segments, boolean accumulate, StepBuffers b) {
        int rows = w.rows();
        int cols = w.cols();
        int acc = accumulate ? 1 : 0;
        MatrixKernels kernels = matrixKernels.get(w.type());
        for (int s = 0; s < segments.size(); s++) {
            int start = segments.start(s);
            int count = segments.count(s);
            long x = in + (long) start * cols * Float.BYTES;
            long y = out + (long) start * rows * Float.BYTES;
            if (segments.gemm(s)) {
                kernels.gemm().pointer(0, x).pointer(1, w.data().address()).pointer(2, y)
                        .integer(3, count).integer(4, rows).integer(5, cols).integer(6, acc)
                        .launch(driver, ceil(rows, 64), ceil(count, 64), 128, stream);
                continue;
            }
            boolean q8 = w.quantizedActivations();
            if (q8) {
                int tiles = count * cols / 32;
                quantize.pointer(0, x).pointer(1, b.xq.address()).pointer(2, b.xd.address()).integer(3, tiles)
                        .launch(driver, ceil(tiles, 4), 1, 128, stream);
            }
            for (int g = 0; g < count; g += RowSegments.GEMV_MAX_TOKENS) {
                int tokens = Math.min(RowSegments.GEMV_MAX_TOKENS, count - g);
                KernelCall gemv = kernels.gemv(tokens);
                long yg = y + (long) g * rows * Float.BYTES;
                if (q8) {
                    gemv.pointer(0, w.data().address()).pointer(1, b.xq.address() + (long) g * cols)
                            .pointer(2, b.xd.address() + (long) g * (cols / 32) * Float.BYTES).pointer(3, yg)
                            .integer(4, rows).integer(5, cols).integer(6, tokens).integer(7, acc);
                } else {
                    gemv.pointer(0, w.data().address()).pointer(1, x + (long) g * cols * Float.BYTES).pointer(2, yg)
                            .integer(3, rows).integer(4, cols).integer(5, tokens).integer(6, acc);
                }
                gemv.launch(driver, ceil(rows, 4), 1, 128, stream);
            }
        }
    }

    private static int ceil(int a, int b) {
        return (a + b - 1) / b;
    }

    @Override
    public void copyBlock(int src, int dst) {
        if (kv == null) {
            throw new IllegalStateException("no KV cache to copy in");
        }
        driver.makeCurrent();
        kv.copyBlock(src, dst, config.layers(), stream);
    }

    @Override
    public WarmupReport warmUp(int decodeSteps) {
        return CudaWarmup.run(this, config, decodeSteps);
    }

    /** Swaps in another KV store (the warm-up's own), returning the one it replaces. */
    CudaKvStore swapKv(CudaKvStore other) {
        CudaKvStore old = kv;
        kv = other;
        tablesFresh = false;
        return old;
    }

    CudaKvStore newKvStore(int blocks, int blockSize) {
        driver.makeCurrent();
        return new CudaKvStore(driver, config.layers(), config.kvHeads(), config.headDim(), blocks, blockSize);
    }

    /** Frees the step buffers (the warm-up's were sized for its own batch); the next step allocates the engine's. */
    void dropStepBuffers() {
        if (buffers != null) {
            driver.synchronize(stream);
            buffers.close();
            buffers = null;
        }
        output = null;
        tablesFresh = false;
    }

    @Override
    public String describe() {
        return "CUDA " + backend.device() + ", " + config.architecture() + " " + config.layers() + " layers";
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        driver.makeCurrent();
        try {
            driver.synchronize(stream);
        } finally {
            if (buffers != null) {
                buffers.close();
            }
            if (kv != null) {
                kv.close();
            }
            weights.close();
            driver.unload(module);
            driver.destroy(stream);
            driver.release();
        }
    }
}
