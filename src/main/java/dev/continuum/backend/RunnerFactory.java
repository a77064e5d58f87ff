package dev.continuum.backend;

import dev.continuum.cuda.CudaAvailability;
import dev.continuum.cuda.CudaModelRunner;
import dev.continuum.cuda.CudaProbe;
import dev.continuum.cuda.CudaWeightTypes;
import dev.continuum.loader.LoadedModel;
import dev.continuum.model.CpuModelRunner;
import dev.continuum.tensor.ComputePool;

import java.util.function.Consumer;

/**
 * The one place that picks the runner for a loaded model (the server, {@code generate} and {@code bench} all come
 * here), applying the {@link Backend} rules: {@code auto} probes the CUDA driver once and falls back to the CPU with
 * one warning naming the reason; {@code cuda} fails with the reason instead.
 */
public final class RunnerFactory {
    private RunnerFactory() {
    }

    /**
     * @param threads CPU compute threads, 0 for one per available core (ignored by the GPU)
     * @param warn    where the one fallback warning goes
     * @throws dev.continuum.cuda.CudaException when {@code cuda} is asked for and cannot run, or the GPU load fails
     */
    public static OpenedRunner open(LoadedModel model, Backend backend, int threads, Consumer<String> warn) {
        if (backend != Backend.CPU) {
            CudaAvailability cuda = CudaProbe.availability();
            String unreadable = CudaWeightTypes.unreadableWeights(model.weights());
            if (cuda.available() && unreadable == null) {
                return new OpenedRunner(new CudaModelRunner(model.config(), model.weights()), null);
            }
            if (cuda.available()) {
                // A GPU is there, but the model's weight types are not ones its kernels read.
                cuda = new CudaAvailability(false, unreadable, cuda.driverVersion(), cuda.devices());
            }
            if (backend == Backend.CUDA) {
                throw new dev.continuum.cuda.CudaException("--backend cuda, but the CUDA backend is not available: "
                        + cuda.reason());
            }
            warn.accept("CUDA backend not available (" + cuda.reason() + "); serving from the CPU");
        }
        ComputePool pool = threads > 0 ? new ComputePool(threads) : ComputePool.ofAvailableCores();
        try {
            return new OpenedRunner(new CpuModelRunner(model.config(), model.weights(), pool), pool);
        } catch (RuntimeException e) {
            pool.close();
            throw e;
        }
    }
}
