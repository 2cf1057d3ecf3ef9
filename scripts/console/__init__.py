"""The console command `claude-gateway`: its command tree, shell completion, launcher and status line."""
