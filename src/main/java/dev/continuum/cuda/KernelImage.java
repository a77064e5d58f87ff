package dev.continuum.cuda;

import java.io.IOException;
import java.io.InputStream;

/**
 * The kernels as one fatbin resource, built by {@code src/main/cuda/build.sh} from {@code src/main/cuda/continuum.cu}:
 * sm_90 machine code for Hopper and compute_80 PTX, which the driver compiles once at load for any other GPU from
 * Ampere on. Committed, so a build without nvcc still ships them; a test checks it equals a fresh build.
 */
final class KernelImage {
    static final String RESOURCE = "/dev/continuum/cuda/continuum.fatbin";

    private KernelImage() {
    }

    static byte[] bytes() {
        try (InputStream in = KernelImage.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new CudaException("the kernel image " + RESOURCE + " is missing from the class path");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new CudaException("cannot read the kernel image " + RESOURCE + ": " + e.getMessage());
        }
    }
}
