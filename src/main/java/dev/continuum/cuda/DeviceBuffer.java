package dev.continuum.cuda;

import jcuda.driver.CUdeviceptr;

/**
 * A device allocation: JCuda's pointer object (for copies) and its raw address (for kernel arguments, where
 * {@code address + offset} costs nothing).
 */
public record DeviceBuffer(CUdeviceptr pointer, long address, long bytes) {
    /** The device address {@code offset} bytes in, checked against the allocation. */
    public long at(long offset) {
        if (offset < 0 || offset > bytes) {
            throw new IndexOutOfBoundsException("offset " + offset + " outside a device buffer of " + bytes + " bytes");
        }
        return address + offset;
    }
}
