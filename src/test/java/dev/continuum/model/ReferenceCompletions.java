package dev.continuum.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** One line of a reference JSONL file produced by llama.cpp (see ../shared/models/README.md). */
record ReferenceCompletions(String prompt, int[] promptIds, int[] completionIds, String completionText,
                            String stoppedBy) {
    static List<ReferenceCompletions> read(Path jsonl) throws IOException {
        ObjectMapper om = new ObjectMapper();
        List<ReferenceCompletions> out = new ArrayList<>();
        for (String line : Files.readAllLines(jsonl)) {
            if (line.isBlank()) {
                continue;
            }
            JsonNode n = om.readTree(line);
            out.add(new ReferenceCompletions(n.get("prompt").asText(),
                    om.convertValue(n.get("prompt_ids"), int[].class),
                    om.convertValue(n.get("completion_ids"), int[].class),
                    n.get("completion_text").asText(),
                    n.get("stopped_by").asText()));
        }
        return out;
    }
}
