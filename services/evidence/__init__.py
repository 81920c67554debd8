"""Evidence files (佐证材料) in the object store, attached to a project, a stage and a purpose."""
