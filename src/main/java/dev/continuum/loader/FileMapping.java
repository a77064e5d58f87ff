package dev.continuum.loader;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Maps a model file into memory copy-on-write: the pages are the file's (shared with the page cache, loaded on
 * demand), but the process may rewrite them privately, which is how weights get repacked for the kernels without
 * a second copy in memory and without ever touching the file. {@link FileChannel} cannot do this for a read-only
 * file (its PRIVATE mode needs a writable channel), so on POSIX systems this calls {@code mmap(PROT_READ |
 * PROT_WRITE, MAP_PRIVATE)} on a read-only descriptor through the FFM linker; elsewhere it falls back to a
 * read-only {@code FileChannel} mapping, whose tensors are then repacked into fresh memory.
 */
final class FileMapping {
    private static final int O_RDONLY = 0;
    private static final int PROT_READ = 1;
    private static final int PROT_WRITE = 2;
    private static final int MAP_PRIVATE = 2;

    private static final Native NATIVE = Native.lookup();

    private FileMapping() {
    }

    /** The whole file, mapped in {@code arena}; writable unless the native mapping is unavailable. */
    static MemorySegment map(Path path, Arena arena) throws IOException {
        if (NATIVE != null) {
            return NATIVE.mapPrivate(path, arena);
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            return ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
        }
    }

    /** The libc entry points, or null when this platform's linker cannot provide them. */
    private record Native(MethodHandle open, MethodHandle mmap, MethodHandle munmap, MethodHandle close,
                          StructLayout callState, VarHandle errno) {
        static Native lookup() {
            String os = System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT);
            if (!(os.contains("linux") || os.contains("mac"))) {
                return null;
            }
            try {
                Linker linker = Linker.nativeLinker();
                var libc = linker.defaultLookup();
                Linker.Option errno = Linker.Option.captureCallState("errno");
                StructLayout state = Linker.Option.captureStateLayout();
                MethodHandle open = linker.downcallHandle(libc.find("open").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT), errno);
                MethodHandle mmap = linker.downcallHandle(libc.find("mmap").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG,
                                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG),
                        errno);
                MethodHandle munmap = linker.downcallHandle(libc.find("munmap").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
                MethodHandle close = linker.downcallHandle(libc.find("close").orElseThrow(),
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
                VarHandle errnoHandle = state.varHandle(MemoryLayout.PathElement.groupElement("errno"));
                return new Native(open, mmap, munmap, close, state, errnoHandle);
            } catch (RuntimeException | LinkageError e) {
                return null;
            }
        }

        MemorySegment mapPrivate(Path path, Arena arena) throws IOException {
            long size = java.nio.file.Files.size(path);
            if (size == 0) {
                return MemorySegment.NULL.reinterpret(0);
            }
            try (Arena call = Arena.ofConfined()) {
                MemorySegment state = call.allocate(callState);
                int fd = (int) open.invokeExact(state, call.allocateFrom(path.toString()), O_RDONLY);
                if (fd < 0) {
                    throw new IOException("open failed, errno " + (int) errno.get(state, 0L));
                }
                MemorySegment address;
                try {
                    address = (MemorySegment) mmap.invokeExact(state, MemorySegment.NULL, size,
                            PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0L);
                } finally {
                    int ignored = (int) close.invokeExact(fd);
                }
                if (address.address() == -1L) {
                    throw new IOException("mmap of " + size + " bytes failed, errno " + (int) errno.get(state, 0L));
                }
                return address.reinterpret(size, arena, segment -> unmap(segment, size));
            } catch (IOException | RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IOException("native mapping failed: " + t, t);
            }
        }

        private void unmap(MemorySegment segment, long size) {
            try {
                int ignored = (int) munmap.invokeExact(segment, size);
            } catch (Throwable ignored) {
                // Unmapping happens on arena close; nothing useful can be done if it fails.
            }
        }
    }
}
