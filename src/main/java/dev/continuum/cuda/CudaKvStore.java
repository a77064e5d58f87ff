package dev.continuum.cuda;

import jcuda.driver.CUstream;

/**
 * The KV cache in device memory, in the GPU's layout: per layer, keys and values each as
 * {@code half[blocks][kvHeads][blockSize][headDim]}, so one position's head is {@code headDim} contiguous halves
 * and a warp reading it is one coalesced load. (The CPU stores a block's keys transposed for its vector kernels;
 * that choice stays on its side of the runner seam.) One allocation for all keys and one for all values.
 */
final class CudaKvStore implements AutoCloseable {
    private final CudaDriver driver;
    private final DeviceBuffer keys;
    private final DeviceBuffer values;
    private final int blocks;
    private final int blockSize;
    private final long blockBytes;
    private final long layerBytes;

    CudaKvStore(CudaDriver driver, int layers, int kvHeads, int headDim, int blocks, int blockSize) {
        if (blocks < 1 || blockSize < 1) {
            throw new IllegalArgumentException("a KV cache of " + blocks + " blocks of " + blockSize + " positions");
        }
        this.driver = driver;
        this.blocks = blocks;
        this.blockSize = blockSize;
        this.blockBytes = (long) kvHeads * blockSize * headDim * Short.BYTES;
        this.layerBytes = blockBytes * blocks;
        long each = layerBytes * layers;
        long[] info = driver.memoryInfo();
        if (2 * each > info[0]) {
            throw new CudaException(String.format("a KV cache of %d blocks needs %d bytes (%.1f MiB) of device memory;"
                    + " the device has %d bytes (%.1f MiB) free of %d: lower --kv-cache-size", blocks, 2 * each,
                    2 * each / 1048576.0, info[0], info[0] / 1048576.0, info[1]));
        }
        this.keys = driver.allocate(each, "KV cache keys");
        DeviceBuffer v;
        try {
            v = driver.allocate(each, "KV cache values");
        } catch (RuntimeException e) {
            driver.free(keys);
            throw e;
        }
        this.values = v;
    }

    int blocks() {
        return blocks;
    }

    int blockSize() {
        return blockSize;
    }

    /** Device address of layer {@code l}'s keys. */
    long keys(int layer) {
        return keys.address() + layer * layerBytes;
    }

    long values(int layer) {
        return values.address() + layer * layerBytes;
    }

    /** Copies block {@code src} into {@code dst}, keys and values of every layer, on the device. */
    void copyBlock(int src, int dst, int layers, CUstream stream) {
        if (src < 0 || src >= blocks || dst < 0 || dst >= blocks) {
            throw new IllegalArgumentException("block copy " + src + " -> " + dst + " in a cache of " + blocks);
        }
        for (int l = 0; l < layers; l++) {
            for (DeviceBuffer b : new DeviceBuffer[] {keys, values}) {
                driver.copyOnDevice(driver.at(b, l * layerBytes + dst * blockBytes),
                        driver.at(b, l * layerBytes + src * blockBytes), blockBytes, stream);
            }
        }
    }

    @Override
    public void close() {
        driver.free(keys);
        driver.free(values);
    }
}
