package dev.continuum.chat;

import java.util.List;

/** Temporary stand-in until the chat-template branch lands. */
public final class ChatTemplate {
    public static ChatTemplate of(String template, String bosToken, String eosToken) {
        return new ChatTemplate();
    }

    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder sb = new StringBuilder();
        for (ChatMessage m : messages) {
            sb.append(m.role()).append(": ").append(m.content()).append('\n');
        }
        if (addGenerationPrompt) {
            sb.append("assistant:");
        }
        return sb.toString();
    }

    public boolean isFallback() {
        return true;
    }
}
