"""One deployable Stack per architecture, built from the constructs."""
