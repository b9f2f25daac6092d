"""Fine-tuning a local Flan-T5 with LoRA on the catalog and rated chats (see the issues)."""
