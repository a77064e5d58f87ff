package dev.continuum.loader;

import dev.continuum.format.ModelFormatException;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.List;

/**
 * Loads a GGUF model shipped inside the jar ({@code embedded:NAME}, the resource {@code models/NAME.gguf}), so a
 * fresh install serves a real model with nothing to download. A class-path resource cannot be memory-mapped (it
 * sits compressed in a jar), and copying it to a temporary file would fail under a read-only root filesystem, so
 * the image is read into off-heap memory owned by the model's arena: writable, as the CPU runner's in-place
 * repacking needs, and released when the model closes.
 */
public final class EmbeddedModelLoader {
    public static final String PREFIX = "embedded:";
    /** The resource directory, beside the NOTICE that credits and licenses its models. */
    static final String DIRECTORY = "models/";
    /** The models the jar carries; a resource can't be listed portably, so they are named here. */
    public static final List<String> NAMES = List.of("stories260K");
    /** GGUF aligns tensor data to 32 bytes from the file's start; a page-aligned base keeps vector loads aligned. */
    private static final long BASE_ALIGNMENT = 4096;

    private EmbeddedModelLoader() {
    }

    /** The class-path resource holding {@code name}'s GGUF image. */
    public static String resource(String name) {
        return DIRECTORY + name + ".gguf";
    }

    /** Loads {@code name} (the part of the spec after {@code embedded:}); it is served as {@code name}. */
    public static LoadedModel load(String name) {
        if (!NAMES.contains(name)) {
            throw new ModelFormatException(PREFIX + name + ": no such embedded model (the jar embeds: "
                    + String.join(", ", NAMES) + ")");
        }
        byte[] image = read(name);
        Arena arena = Arena.ofShared();
        try {
            MemorySegment segment = arena.allocate(image.length, BASE_ALIGNMENT);
            MemorySegment.copy(image, 0, segment, ValueLayout.JAVA_BYTE, 0, image.length);
            // The file name gives the served name (stories260K) and appears in messages and the description.
            return GgufModelLoader.build(GgufFile.parse(Path.of(name + ".gguf"), segment), arena);
        } catch (RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static byte[] read(String name) {
        String resource = resource(name);
        try (InputStream in = EmbeddedModelLoader.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new ModelFormatException(PREFIX + name + ": resource " + resource + " is missing from the class path");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new ModelFormatException(PREFIX + name + ": cannot read resource " + resource + ": " + e.getMessage(), e);
        }
    }
}
