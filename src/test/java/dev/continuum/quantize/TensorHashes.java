package dev.continuum.quantize;

import dev.continuum.loader.GgufFile;
import dev.continuum.loader.GgufTensorInfo;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/** Per-tensor hashes of a GGUF file, in the TSV form of reference/quantize/*.tsv: name, ggml type id, sha256. */
record TensorHashes(String fileSha256, List<String> lines) {
    static TensorHashes of(Path gguf) throws IOException {
        try (Arena arena = Arena.ofConfined(); FileChannel ch = FileChannel.open(gguf, StandardOpenOption.READ)) {
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            GgufFile f = GgufFile.parse(gguf, all);
            List<String> lines = new ArrayList<>();
            for (GgufTensorInfo t : f.tensors().values()) {
                lines.add(t.name() + "\t" + t.type().id + "\t" + sha256(f.bytes(t)));
            }
            return new TensorHashes(sha256(all), lines);
        }
    }

    /** A reference file: an optional "#file" line with the whole file's hash, then the tensor lines. */
    static TensorHashes reference(String resource) {
        try (InputStream in = TensorHashes.class.getResourceAsStream("/reference/quantize/" + resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no reference " + resource);
            }
            String fileSha = null;
            List<String> lines = new ArrayList<>();
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (line.startsWith("#file\t")) {
                    fileSha = line.substring(6);
                } else if (!line.isBlank()) {
                    lines.add(line);
                }
            }
            return new TensorHashes(fileSha, lines);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String sha256(MemorySegment bytes) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(bytes.asByteBuffer());
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    static String sha256(byte[] bytes) {
        return sha256(MemorySegment.ofArray(bytes));
    }
}
