package dev.continuum.backend;

import dev.continuum.runner.ModelRunner;
import dev.continuum.tensor.ComputePool;

/**
 * A runner and what it owns: the CPU runner's thread pool (null for the GPU, which needs none). Closing releases
 * both, the runner first.
 */
public record OpenedRunner(ModelRunner runner, ComputePool pool) implements AutoCloseable {
    @Override
    public void close() {
        try {
            runner.close();
        } finally {
            if (pool != null) {
                pool.close();
            }
        }
    }
}
