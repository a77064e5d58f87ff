package dev.continuum.chat;

/** One chat message. */
public record ChatMessage(String role, String content) {
}
