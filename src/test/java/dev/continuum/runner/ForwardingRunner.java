package dev.continuum.runner;

/**
 * A test runner that hands every call to another runner; a test overrides what it changes (a forward pass that
 * fails, logits that disagree) and keeps the rest.
 */
public abstract class ForwardingRunner implements ModelRunner {
    protected final ModelRunner inner;

    protected ForwardingRunner(ModelRunner inner) {
        this.inner = inner;
    }

    @Override
    public ModelShape shape() {
        return inner.shape();
    }

    @Override
    public void allocateKvCache(int blocks, int blockSize) {
        inner.allocateKvCache(blocks, blockSize);
    }

    @Override
    public StepOutput forward(StepBatch batch) {
        return inner.forward(batch);
    }

    @Override
    public void copyBlock(int src, int dst) {
        inner.copyBlock(src, dst);
    }

    @Override
    public WarmupReport warmUp(int decodeSteps) {
        return inner.warmUp(decodeSteps);
    }

    @Override
    public String describe() {
        return "forwarding to " + inner.describe();
    }
}
