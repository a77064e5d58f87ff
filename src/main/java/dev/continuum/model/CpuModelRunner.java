package dev.continuum.model;

import dev.continuum.runner.ModelRunner;
import dev.continuum.runner.ModelShape;
import dev.continuum.runner.RunnerBackend;
import dev.continuum.runner.StepBatch;
import dev.continuum.runner.StepOutput;
import dev.continuum.runner.WarmupReport;
import dev.continuum.tensor.ComputePool;
import dev.continuum.tensor.NativeCpuKernels;
import dev.continuum.tensor.VectorSupport;

/**
 * The CPU backend behind the {@link ModelRunner} seam: the forward pass of the model's {@link Architecture} run by
 * the Vector API (or native) kernels on a {@link ComputePool}, its KV data in float16 heap arrays ({@link Float16KvStore}).
 *
 * <p>The runner prepares its own weight layout: it takes the weights as the file stores them and repacks every
 * matrix the forward pass multiplies into the interleaved layout its kernels read, in place in the process's
 * private copy-on-write pages of the mapped file (see {@link LlamaWeights#interleaved}), so resident memory stays
 * about the file size. Repacking is done once per tensor: further runners over the same loaded weights share it.
 */
public final class CpuModelRunner implements ModelRunner {
    private final LlamaConfig config;
    private final LlamaWeights weights;
    private final ComputePool pool;
    private final Transformer model;
    private final ModelShape shape;
    private Float16KvStore kv;
    private StepOutput output;

    /**
     * @param config  the model's hyper-parameters
     * @param stored  its weights as the file stores them (row-major); repacked in place here, so the caller must
     *                not read them row-major afterwards
     * @param pool    the threads the kernels run on
     */
    public CpuModelRunner(LlamaConfig config, LlamaWeights stored, ComputePool pool) {
        this.config = config;
        this.weights = stored.interleaved();
        this.pool = pool;
        this.model = config.architecture().createPass(config, weights, pool);
        this.shape = new ModelShape(config.vocabSize(), config.contextLength(), config.layers(),
                Float16KvStore.bytesPerToken(config));
    }

    @Override
    public ModelShape shape() {
        return shape;
    }

    @Override
    public void allocateKvCache(int blocks, int blockSize) {
        kv = null; // let the old pool go before the new one is allocated
        kv = new Float16KvStore(config.layers(), config.kvHeads(), config.headDim(), blocks, blockSize);
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
        if (output == null || output.maxRows() < batch.maxLogitRows()) {
            output = new StepOutput(batch.maxLogitRows(), config.vocabSize());
        }
        model.forward(batch, kv, output.logits());
        output.setRows(batch.logitRowCount());
        return output;
    }

    @Override
    public void copyBlock(int src, int dst) {
        if (kv == null) {
            throw new IllegalStateException("no KV cache to copy in");
        }
        kv.copyBlock(src, dst);
    }

    @Override
    public WarmupReport warmUp(int decodeSteps) {
        return CpuWarmup.run(config, weights, model, pool, decodeSteps);
    }

    @Override
    public RunnerBackend backend() {
        return new RunnerBackend("cpu", "CPU, " + pool.threads() + " threads");
    }

    @Override
    public String describe() {
        return "CPU, " + pool.threads() + " threads, " + config.architecture() + " " + config.layers() + " layers, "
                + VectorSupport.describe() + ", quantized formats: " + NativeCpuKernels.describe();
    }
}
