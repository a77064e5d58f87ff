package dev.continuum.cuda;

import jcuda.driver.CUstream;

import java.lang.foreign.MemorySegment;

/**
 * Host-to-device upload through two page-locked staging buffers: while the device drains one (an asynchronous
 * copy), the host fills the other from the source. Pinning the staging buffers rather than the model's mapped file
 * keeps the host's resident memory at two buffers instead of the whole model.
 */
final class UploadRing implements AutoCloseable {
    static final int HALF_BYTES = 16 << 20;

    private final CudaDriver driver;
    private final CUstream stream;
    private final HostBuffer[] halves = new HostBuffer[2];
    private final MemorySegment[] segments = new MemorySegment[2];
    private final boolean[] inFlight = new boolean[2];
    private int next;

    UploadRing(CudaDriver driver, CUstream stream) {
        this.driver = driver;
        this.stream = stream;
        for (int i = 0; i < 2; i++) {
            halves[i] = driver.allocateHost(HALF_BYTES);
            segments[i] = MemorySegment.ofBuffer(halves[i].view());
        }
    }

    /** Copies all of {@code source} to the start of {@code target}. */
    void upload(MemorySegment source, DeviceBuffer target) {
        long size = source.byteSize();
        if (size > target.bytes()) {
            throw new IllegalArgumentException(size + " bytes into a device buffer of " + target.bytes());
        }
        for (long done = 0; done < size; done += HALF_BYTES) {
            int n = (int) Math.min(HALF_BYTES, size - done);
            int h = next;
            next ^= 1;
            if (inFlight[h]) {
                // The copy two chunks ago read this half; the stream runs copies in order, so once it is done
                // (and possibly the one after it) the half is free. One stream keeps it simple: wait for both.
                driver.synchronize(stream);
                inFlight[0] = inFlight[1] = false;
            }
            MemorySegment.copy(source, done, segments[h], 0, n);
            driver.copyToDevice(driver.at(target, done), halves[h].pointer(), n, stream);
            inFlight[h] = true;
        }
    }

    /** Waits for the last copies. */
    void finish() {
        driver.synchronize(stream);
        inFlight[0] = inFlight[1] = false;
    }

    @Override
    public void close() {
        try {
            driver.synchronize(stream);
        } finally {
            for (HostBuffer h : halves) {
                if (h != null) {
                    driver.freeHost(h);
                }
            }
        }
    }
}
