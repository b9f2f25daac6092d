"""Specialise a local Flan-T5 to this shop: a dataset from the catalog and rated chats
(:mod:`finetune.dataset`), a hand-written LoRA training loop on accelerate
(:mod:`finetune.train`), ROUGE and fact-accuracy evaluation (:mod:`finetune.evaluate`), and
adapters the bot serves (:mod:`finetune.adapters`). ``python -m finetune --help`` lists the
commands. Nothing heavy is imported with the package."""
