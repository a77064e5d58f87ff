package dev.continuum.cuda;

import jcuda.Pointer;

import java.nio.ByteBuffer;

/** Page-locked host memory: JCuda's pointer (for copies) and a native-order view of it for Java to fill and read. */
public record HostBuffer(Pointer pointer, ByteBuffer view, long bytes) {
}
