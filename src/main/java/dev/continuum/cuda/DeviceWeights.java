package dev.continuum.cuda;

import dev.continuum.model.LayerWeights;
import dev.continuum.model.LlamaWeights;
import dev.continuum.tensor.WeightTensor;
import jcuda.driver.CUstream;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's weights uploaded to the device as stored: matrices in the file's row-major ggml blocks, norm weights and
 * biases as floats. A tensor shared by two roles (a tied output matrix is the token embedding) is uploaded once.
 * Before anything is allocated the total is checked against the device's free memory, so a model that does not fit
 * fails with the bytes needed and free rather than half-way through.
 */
final class DeviceWeights implements AutoCloseable {
    private final CudaDriver driver;
    private final List<DeviceBuffer> allocations = new ArrayList<>();
    private final Map<Object, Object> uploaded = new IdentityHashMap<>();
    final DeviceMatrix tokenEmbedding;
    final DeviceLayer[] layers;
    final DeviceBuffer outputNorm;
    final DeviceMatrix output;
    final long bytes;

    DeviceWeights(CudaDriver driver, LlamaWeights weights, CUstream stream) {
        this.driver = driver;
        this.bytes = bytesOf(weights);
        long[] info = driver.memoryInfo();
        if (bytes > info[0]) {
            throw new CudaException(String.format("the model's weights need %d bytes (%.1f MiB) of device memory; the"
                    + " device has %d bytes (%.1f MiB) free of %d", bytes, bytes / 1048576.0, info[0],
                    info[0] / 1048576.0, info[1]));
        }
        try (UploadRing ring = new UploadRing(driver, stream)) {
            this.tokenEmbedding = matrix(weights.tokenEmbedding(), ring);
            this.layers = new DeviceLayer[weights.layers().length];
            for (int l = 0; l < layers.length; l++) {
                LayerWeights w = weights.layers()[l];
                layers[l] = new DeviceLayer(floats(w.attnNorm(), ring), matrix(w.wq(), ring), matrix(w.wk(), ring),
                        matrix(w.wv(), ring), floats(w.bq(), ring), floats(w.bk(), ring), floats(w.bv(), ring),
                        matrix(w.wo(), ring), floats(w.ffnNorm(), ring), matrix(w.gate(), ring), matrix(w.up(), ring),
                        matrix(w.down(), ring));
            }
            this.outputNorm = floats(weights.outputNorm(), ring);
            this.output = matrix(weights.output(), ring);
            ring.finish();
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Device bytes the weights take, each shared tensor counted once. */
    static long bytesOf(LlamaWeights weights) {
        Map<Object, Boolean> seen = new IdentityHashMap<>();
        long total = size(seen, weights.tokenEmbedding()) + size(seen, weights.output()) + size(seen, weights.outputNorm());
        for (LayerWeights w : weights.layers()) {
            for (Object t : new Object[] {w.attnNorm(), w.wq(), w.wk(), w.wv(), w.bq(), w.bk(), w.bv(), w.wo(),
                    w.ffnNorm(), w.gate(), w.up(), w.down()}) {
                total += size(seen, t);
            }
        }
        return total;
    }

    private static long size(Map<Object, Boolean> seen, Object t) {
        if (t == null || seen.put(t, Boolean.TRUE) != null) {
            return 0;
        }
        return t instanceof WeightTensor w ? w.data().byteSize() : (long) ((float[]) t).length * Float.BYTES;
    }

    private DeviceMatrix matrix(WeightTensor t, UploadRing ring) {
        if (t instanceof dev.continuum.tensor.LoadTimeQuantized q) {
            // No CUDA kernel reads the load-time formats; uploading their bytes as the file's type would be noise.
            throw new CudaException("the CUDA backend has no kernels for weights quantized at load (" + q.format()
                    + ", tensor '" + t.name() + "'); use --backend cpu, or serve without --quantize");
        }
        Object done = uploaded.get(t);
        if (done != null) {
            return (DeviceMatrix) done;
        }
        long size = t.data().byteSize();
        DeviceBuffer buffer = keep(driver.allocate(size, "weight " + t.name()));
        // The file's row-major bytes, whatever layout the tensor is in now (a CPU runner may have repacked it in place).
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment rowMajor = arena.allocate(size, 64);
            t.writeRowMajor(rowMajor);
            ring.upload(rowMajor, buffer);
        }
        DeviceMatrix m = new DeviceMatrix(t.type(), t.rows(), t.cols(), buffer);
        uploaded.put(t, m);
        return m;
    }

    private DeviceBuffer floats(float[] values, UploadRing ring) {
        if (values == null) {
            return null;
        }
        Object done = uploaded.get(values);
        if (done != null) {
            return (DeviceBuffer) done;
        }
        DeviceBuffer buffer = keep(driver.allocate((long) values.length * Float.BYTES, "norm or bias"));
        ring.upload(MemorySegment.ofArray(values), buffer);
        uploaded.put(values, buffer);
        return buffer;
    }

    private DeviceBuffer keep(DeviceBuffer b) {
        allocations.add(b);
        return b;
    }

    @Override
    public void close() {
        for (DeviceBuffer b : allocations) {
            driver.free(b);
        }
        allocations.clear();
    }
}
