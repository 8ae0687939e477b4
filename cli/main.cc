int main() { return 0; }  // placeholder until the component lands
