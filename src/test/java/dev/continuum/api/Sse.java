package dev.continuum.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Parses a text/event-stream body into its JSON events, checking the framing on the way. */
final class Sse {
    private static final ObjectMapper JSON = new ObjectMapper();

    private Sse() {
    }

    /** The JSON payloads of every {@code data:} event before the final {@code [DONE]}. */
    static List<JsonNode> events(String body) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        String[] frames = body.split("\n\n");
        for (int i = 0; i < frames.length; i++) {
            String frame = frames[i];
            assertTrue(frame.startsWith("data: "), "every event is a data line: " + frame);
            String data = frame.substring("data: ".length());
            if (data.equals("[DONE]")) {
                assertEquals(frames.length - 1, i, "[DONE] is the last event");
                return out;
            }
            out.add(JSON.readTree(data));
        }
        throw new AssertionError("the stream did not end with data: [DONE]");
    }

    /** The concatenated text of choice {@code index} across completion chunks. */
    static String text(List<JsonNode> events, int index, boolean chat) {
        StringBuilder sb = new StringBuilder();
        for (JsonNode e : events) {
            for (JsonNode c : e.get("choices")) {
                if (c.get("index").asInt() == index) {
                    sb.append(chat ? c.path("delta").path("content").asText("") : c.get("text").asText());
                }
            }
        }
        return sb.toString();
    }
}
